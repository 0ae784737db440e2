// The coordinator Worker: routes HTTP and WebSocket traffic to the prebuilt actors.
import { inventoryRoutes } from "./actors/inventory-sku/routes";
import { orderRoutes } from "./actors/order/routes";
import { tenantRoutes } from "./actors/tenant-db/routes";
import { createCoordinator, type Mount } from "./src/coordinator/index";

export * from "./actors/index";
export { Directory } from "./src/coordinator/directory";

/** Each prebuilt actor's routes, mounted by the coordinator (and reused by the test Worker). */
export const mounts: Mount<Env>[] = [
  { path: "/inventory", app: inventoryRoutes },
  { path: "/", app: orderRoutes },
  { path: "/tenants", app: tenantRoutes },
];

export default createCoordinator<Env>(mounts);
