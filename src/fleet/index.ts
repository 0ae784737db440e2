// `dosql-actors/fleet`: the registry of every actor of a kind (list, migrate all, query all).
// An actor joins with `defineActor({ …, fleet: fleet("tenants") })`; the Worker exports
// `FleetRegistry`, binds it as `FLEET`, and mounts `fleetRoutes` at `/admin/fleet`.
export { type FleetEnv, type FleetHost, type FleetMember, type FleetPart, fleet } from "./part";
export { type ReadOnlyResult, readOnlyQuery } from "./read-only";
export { FleetRegistry } from "./registry";
export { createFleetRoutes, FLEET_KINDS, fleetRoutes } from "./routes";
export type * from "./types";
