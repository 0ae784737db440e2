import type { TransactionOptions } from "../database";
import type { ConflictPolicy, MergeConflict } from "./merge";

/** What history needs from the actor that owns it (SqlActor wires these; history never imports it). */
export interface HistoryHost {
  storage: DurableObjectStorage;
  /** `ctx.id.name`. */
  name: string | undefined;
  /** Run `fn` in the actor's transaction (so capture groups it and records `actor`). */
  transaction<T>(fn: () => T, options?: TransactionOptions): T;
  /** Inside `transaction`: history's own writes (on `storage.sql`) wrote rows, so close it at commit. */
  markWritten(): void;
  /** The newest migration applied. */
  schemaVersion(): string | null;
  /** The namespace of this actor's class, for branches. */
  namespace(): DurableObjectNamespace | undefined;
  /** WebSocket topics someone listens to, and a way to send to one (live subscribers). */
  live?: LiveHost;
}

export interface LiveHost {
  topics(): Iterable<string>;
  send(message: unknown, topic: string): void;
  /** Changes [from, last] were committed and are readable (live queries push from here). */
  committed?(from: number, last: number): void;
}

export interface WriteResult {
  /** The transaction that recorded the writes (undo it with `undo(tx)`), or null when nothing changed. */
  tx: number | null;
  /** Changes written (including those made by foreign key cascades). */
  changes: number;
}
export interface RestoreResult extends WriteResult {
  restoredTo: number;
}
export interface BranchResult {
  name: string;
  forkLsn: number;
  at: number;
  rows: number;
}
export interface MergeOptions {
  /** What to do with rows both sides changed: "fail" (the default) writes nothing and lists them. */
  onConflict?: ConflictPolicy;
  /** Recorded as the merge transaction's actor (default `merge:<branch>`). */
  actor?: string;
  /**
   * Run inside the merge's transaction once its rows are written (`changes` may be 0; not run when
   * conflicts stop the merge): what it writes commits with the merge or not at all, no other call
   * of the actor runs between the merge's rows and it, and what it throws undoes the whole merge.
   */
  inside?: (merged: WriteResult) => void;
}
export interface MergeResult extends WriteResult {
  branch: string;
  /** False when conflicts stopped a "fail" merge: nothing was written. */
  merged: boolean;
  conflicts: MergeConflict[];
  /** The branch's LSN merged up to. */
  upTo: number;
}
export interface HistoryStatus {
  tables: string[];
  appendOnly: string[];
  skipped: { table: string; reason: string }[];
  lastLsn: number;
  floorLsn: number;
  transactions: number;
  subscribers: number;
  branches: { name: string; forkLsn: number; mergedLsn: number; createdAt: number }[];
  fork: { from: string; forkLsn: number; at: number } | null;
}
