// dosql-actors/forward: the outbox (change feed pushed to Queues, other actors, user code) and
// `applyOnce` for the receiving side.
export { APPLIED, type ApplyHost, appliedLsn, applyOnce, checkBatch } from "./apply-once";
export type { ForwardHost } from "./forwarding";
export { type ForwardPart, forward } from "./part";
export type {
  ApplyResult,
  ForwardBatch,
  ForwardChange,
  ForwardSpec,
  ForwardStatus,
  ForwardTarget,
} from "./types";
