// What the IoT page reads from the BuildingTelemetry actor (its own types).
export type {
  AggregatePoint,
  Alert,
  AlertRule,
  HistoricalPoint,
  IngestResult,
} from "../../actors/building-telemetry/building-telemetry";
