// The Worker the tests run: the coordinator with every actor's routes plus a fixture route, and the fixtures.
import { createCoordinator } from "../src/coordinator/index";
import { mounts } from "../worker";
import { fixtureRoutes } from "./fixtures/routes";

export { Notes } from "../examples/notes/notes";
export * from "../worker";
export { FixtureActor, PlainNotes } from "./fixtures/actors";
export { ChatRoom, QuietRoom } from "./fixtures/chat-room";
export { HistoryActor, ListedHistoryActor, NoHistoryActor } from "./fixtures/history-actors";
export { HistoryFkActor } from "./fixtures/history-fk";
export { EveryWakeActor, LongLeaseActor, ScheduledActor } from "./fixtures/scheduled-actors";
export { TieredActor } from "./fixtures/tiered";

export default createCoordinator<Env>([...mounts, { path: "/fixtures", app: fixtureRoutes }]);
