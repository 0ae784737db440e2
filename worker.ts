// The coordinator Worker: routes HTTP and WebSocket traffic to the prebuilt actors.
import { createCoordinator, type Mount } from "./src/coordinator/index";

export * from "./actors/index";

/** Each prebuilt actor's routes, mounted by the coordinator (and reused by the test Worker). */
export const mounts: Mount<Env>[] = [];

export default createCoordinator<Env>(mounts);
