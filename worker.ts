// The coordinator Worker: routes HTTP and WebSocket traffic to the prebuilt actors.
import { createCoordinator } from "./src/coordinator/index";

export * from "./actors/index";

export default createCoordinator<Env>([]);
