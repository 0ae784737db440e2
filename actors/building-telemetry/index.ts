// `dosql-actors/actors/building-telemetry`: the BuildingTelemetry actor alone (its routes are
// `dosql-actors/actors/building-telemetry/routes`). Classes and types only: a Worker may
// `export *` from here, and workerd refuses any other value exported by a Worker's main module.
export {
  type AggregatePoint,
  type Alert,
  type AlertRule,
  BuildingTelemetry,
  type HistoricalPoint,
  type IngestResult,
  type LifecycleResult,
  type Retention,
} from "./building-telemetry";
