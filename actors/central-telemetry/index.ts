// `dosql-actors/actors/central-telemetry`: the CentralTelemetry actor alone (its routes are
// `dosql-actors/actors/central-telemetry/routes`). Classes and types only.
export { type BuildingRollup, CentralTelemetry } from "./central-telemetry";
