// The coordinator Worker: routes HTTP and WebSocket traffic to the prebuilt actors.
import { buildingRoutes } from "./actors/building-telemetry/routes";
import { centralRoutes } from "./actors/central-telemetry/routes";
import { documentRoutes } from "./actors/collaborative-document/routes";
import { globalAnalyticsRoutes } from "./actors/global-analytics/routes";
import { inventoryRoutes } from "./actors/inventory-sku/routes";
import { orderRoutes } from "./actors/order/routes";
import { regionalAnalyticsRoutes } from "./actors/regional-analytics/routes";
import { tenantRoutes } from "./actors/tenant-db/routes";
import { createCoordinator, type Mount } from "./src/coordinator/index";
import { createFleetRoutes } from "./src/fleet/routes";

export * from "./actors/index";
export { Directory } from "./src/coordinator/directory";
export { FleetRegistry } from "./src/fleet/registry";

/** Each prebuilt actor's routes, mounted by the coordinator (and reused by the test Worker). */
export const mounts: Mount<Env>[] = [
  { path: "/inventory", app: inventoryRoutes },
  { path: "/documents", app: documentRoutes },
  { path: "/", app: orderRoutes },
  { path: "/tenants", app: tenantRoutes },
  { path: "/admin/fleet", app: createFleetRoutes<Env>() },
  { path: "/", app: buildingRoutes },
  { path: "/", app: centralRoutes },
  { path: "/", app: globalAnalyticsRoutes },
  { path: "/", app: regionalAnalyticsRoutes },
];

export default createCoordinator<Env>(mounts);
