export {
  type ActorConnection,
  type BroadcastConfig,
  type BroadcastOptions,
  type ConnectionIdentity,
  type ConnectionState,
  Connections,
  type PresenceEntry,
} from "./broadcast";
export * from "./coordinator/index";
export { Database, quoteIdent, type RunResult, type SqlParams, type SqlValue } from "./database";
export { type ActorConfig, defineActor } from "./define-actor";
export { ActorError, badInput, type ErrorDetails } from "./errors";
export {
  type BranchResult,
  type Change,
  type ChangeOp,
  type ChangesOptions,
  type ChangesPage,
  type ConflictPolicy,
  History,
  type HistoryConfig,
  type HistoryStatus,
  type MergeConflict,
  type MergeResult,
  type PruneResult,
  type RestoreResult,
  type Row,
  type RowValue,
  type RowVersion,
  type Subscription,
  type WriteResult,
} from "./history/index";
export { type JsonValue, toJsonText } from "./json";
export { applyMigrations, type MigrationBundle, type MigrationReport } from "./migrations";
export { type QuietResult, quietStub } from "./quiet";
export {
  type Every,
  type MethodKey,
  nextCronTime,
  type Schedule,
  type ScheduleConfig,
  Scheduler,
  type ScheduleStatus,
  type TaskOptions,
  type When,
} from "./schedule";
export { SqlActor } from "./sql-actor";
export type { ActorStats } from "./stats";
export * from "./tiering/index";
