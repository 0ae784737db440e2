// The coordinator Worker: routes HTTP and WebSocket traffic to the prebuilt actors.
import { inventoryRoutes } from "./actors/inventory-sku/routes";
import { orderRoutes } from "./actors/order/routes";
import { createCoordinator, type Mount } from "./src/coordinator/index";

export * from "./actors/index";

/** Every actor's routes and where they are mounted (the test Worker reuses them). */
export const mounts: Mount<Env>[] = [
  { path: "/inventory", app: inventoryRoutes },
  { path: "/", app: orderRoutes },
];

export default createCoordinator<Env>(mounts);
