// `dosql-actors/history`: change capture, the change feed, time travel, restore, branch and merge.
export type { Row, RowValue } from "./codec";
export type { HistoryConfig } from "./config";
export { readHistoryConfig } from "./config";
export { HistoryEngine } from "./engine";
export type { Change, ChangeOp, ChangesOptions, ChangesPage, RowVersion } from "./feed";
export { History } from "./history";
export type { ConflictPolicy, MergeConflict } from "./merge";
export { type HistoryPart, history } from "./part";
export type { PruneResult } from "./retention";
export type { Subscription } from "./subscribers";
export type {
  BranchResult,
  HistoryStatus,
  MergeOptions,
  MergeResult,
  RestoreResult,
  WriteResult,
} from "./types";
