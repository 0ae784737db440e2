// The coordinator Worker: routes HTTP and WebSocket traffic to the prebuilt actors.

import { buildingRoutes } from "./actors/building-telemetry/routes";
import { centralRoutes } from "./actors/central-telemetry/routes";
import { documentRoutes } from "./actors/collaborative-document/routes";
import { inventoryRoutes } from "./actors/inventory-sku/routes";
import { orderRoutes } from "./actors/order/routes";
import { createCoordinator, type Mount } from "./src/coordinator/index";

export * from "./actors/index";
export { Directory } from "./src/coordinator/directory";

/** Each prebuilt actor's routes, mounted by the coordinator (and reused by the test Worker). */
export const mounts: Mount<Env>[] = [
  { path: "/inventory", app: inventoryRoutes },
  { path: "/documents", app: documentRoutes },
  { path: "/", app: orderRoutes },
  { path: "/", app: buildingRoutes },
  { path: "/", app: centralRoutes },
];

export default createCoordinator<Env>(mounts);
