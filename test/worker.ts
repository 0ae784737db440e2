// The Worker the tests run: the coordinator with every actor's routes plus a fixture route, and the fixtures.
import { createCoordinator } from "../src/coordinator/index";
import { mounts } from "../worker";
import { forwardQueue } from "./fixtures/forward-actors";
import { fixtureRoutes } from "./fixtures/routes";

export { NotesAgent } from "../examples/agent-parts/agent";
export { Notes } from "../examples/notes/notes";
export * from "../worker";
export { FixtureActor, PlainNotes } from "./fixtures/actors";
export { BackedUpInventory } from "./fixtures/backed-up-inventory";
export { ChatRoom, QuietRoom } from "./fixtures/chat-room";
export { CoreAuditActor } from "./fixtures/core-audit";
export { RefusingRegistry, RetryTenant } from "./fixtures/fleet-retry";
export { FleetTenant, RenamedTenant } from "./fixtures/fleet-tenant";
export {
  BackedUpForwardSink,
  BackedUpForwardSource,
  BadForward,
  ForwardSink,
  ForwardSource,
  ReconfiguredSource,
  RestoredSinkSource,
} from "./fixtures/forward-actors";
export { HistoryActor, ListedHistoryActor, NoHistoryActor } from "./fixtures/history-actors";
export { HistoryFkActor } from "./fixtures/history-fk";
export { MigratingActor, MigratingHistoryActor, MigratingTieredActor } from "./fixtures/migration-actors";
export { NoRpcActor, RpcActor } from "./fixtures/rpc-actor";
export { EveryWakeActor, LongLeaseActor, ScheduledActor } from "./fixtures/scheduled-actors";
export { SourcedActor } from "./fixtures/sources-actors";
export { LocalBuilding, OfflineArchiveBuilding } from "./fixtures/telemetry";
export { TieredActor } from "./fixtures/tiered";

const app = createCoordinator<Env>([...mounts, { path: "/fixtures", app: fixtureRoutes }]);

export default { fetch: app.fetch, queue: forwardQueue } satisfies ExportedHandler<
  Env,
  import("../src/forward/index").ForwardBatch
>;
