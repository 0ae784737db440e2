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
// Types only: the code of each opt-in part comes with its own entry point
// ("dosql-actors/history", "dosql-actors/tiering"), never with this one.
export type {
  BranchResult,
  Change,
  ChangeOp,
  ChangesOptions,
  ChangesPage,
  ConflictPolicy,
  History,
  HistoryConfig,
  HistoryStatus,
  MergeConflict,
  MergeOptions,
  MergeResult,
  PruneResult,
  RestoreResult,
  Row,
  RowValue,
  RowVersion,
  Subscription,
  WriteResult,
} from "./history/index";
export { type JsonValue, toJsonText } from "./json";
export { applyMigrations, type MigrationBundle, type MigrationReport } from "./migrations";
export type { ActorPart, PartHost, PartInstance, PartKey, PartScheduler } from "./part";
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
export type {
  ArchiveResult,
  ArchiveSpec,
  BackupResult,
  ManifestEntry,
  RestoreResult as BackupRestoreResult,
  SourcePlan,
  StoreHooks,
  Tiering,
  TieringConfig,
} from "./tiering/index";
