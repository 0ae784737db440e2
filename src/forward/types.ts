import type { Row } from "../history/codec";
import type { Change } from "../history/feed";

/** One change as a forward sends it: only the declared columns of a declared table. */
export interface ForwardChange {
  lsn: number;
  tx: number;
  /** Commit time (epoch ms). */
  at: number;
  table: string;
  op: "insert" | "update" | "delete";
  /** The primary key (its columns are always among the declared ones). */
  key: Row;
  /** The row before the change (updates and deletes), declared columns only. */
  before: Row | null;
  /** The row after the change (inserts and updates), declared columns only. */
  after: Row | null;
  /** For an update: the declared columns that changed. */
  changed?: string[];
}

/**
 * What every target receives: one message per batch. `from`..`to` is the LSN range the batch
 * covers (changes the forward does not export fall inside it too); `after` is the `to` of the
 * previous batch this destination was sent (0 for the first), so a receiver can tell a
 * redelivery (`to` ≤ what it applied) from a batch that arrived before an earlier one (`after` >
 * what it applied). `applyOnce` does both checks.
 */
export interface ForwardBatch {
  /** The sending actor (`ctx.id.name`). */
  source: string;
  /**
   * The sending actor's Durable Object id (`ctx.id.toString()`): unique across classes and
   * namespaces, where `source` (a name) is not. `applyOnce` keys what it applied by it, so two
   * senders of different classes sharing a name and a forward name never collide. Absent in
   * batches of senders before it existed.
   */
  sourceId?: string;
  /** The forward's name. */
  forward: string;
  /**
   * When the sender's storage began (epoch ms). A later epoch than the one a receiver applied
   * means the sender was destroyed and written again: its LSNs started over (`applyOnce` resets).
   * Absent in batches of senders before it existed.
   */
  epoch?: number;
  after: number;
  from: number;
  to: number;
  changes: ForwardChange[];
}

/** Where a forward sends its batches. */
export type ForwardTarget =
  /** A Cloudflare Queue producer binding: one message per batch. */
  | { queue: string }
  /**
   * Another actor over RPC: `env[actor].getByName(name)[method](batch)`. With `name` a function,
   * each change goes to the actor it names (one batch per destination, in LSN order).
   */
  | {
      actor: string;
      name: string | ((change: ForwardChange, source: string) => string);
      method: string;
    }
  /** A method of this actor, `this[call](batch)`: user code that sends anywhere (a webhook). */
  | { call: string };

/** One entry of `forward([...])`. */
export interface ForwardSpec {
  /** 1-64 characters of `[A-Za-z0-9._-]`; stable: the acknowledged LSN is kept under it. */
  name: string;
  /** Tables whose changes are sent (each must be captured by `history`). */
  tables: readonly string[];
  /**
   * The columns each table exports (its primary key columns among them). A table without an
   * entry exports every column it has at each wake, including ones later migrations add.
   */
  columns?: Readonly<Record<string, readonly string[]>>;
  /** Send only the changes this accepts (it sees the whole change, inside the actor). */
  where?: (change: Change) => boolean;
  to: ForwardTarget;
  /** At most `size` changes a batch (default 100), sent at most `maxWaitMs` after a commit (default 1,000). */
  batch?: { size?: number; maxWaitMs?: number };
  /**
   * Consecutive failed deliveries before the forward is parked (default 8), the backoff between
   * them, and how long a target may take to accept a batch before the attempt counts as failed
   * (default 60,000 ms; it may still land, and `applyOnce` makes the next attempt harmless).
   */
  retry?: { attempts?: number; backoffMs?: number; maxBackoffMs?: number; timeoutMs?: number };
  /** Where a new forward starts: after the newest change ("now", default) or at the oldest held ("start"). */
  start?: "now" | "start";
}

/** A forward as `stats()`, `flushForward()` and `resumeForward()` show it. */
export interface ForwardStatus {
  name: string;
  target: string;
  state: "active" | "parked";
  /** Every change up to here was delivered (or is not exported by this forward). */
  ackedLsn: number;
  /** Changes written after `ackedLsn` (of every tracked table). */
  pending: number;
  delivered: { batches: number; changes: number };
  lastDeliveryAt: number | null;
  /** Consecutive failed attempts. */
  failures: number;
  lastError: string | null;
  nextAttemptAt: number | null;
  parkedAt: number | null;
  /**
   * Parked because a receiver has applied less than it had accepted (restored from an old backup)
   * and the history no longer holds the changes after what it applied: that destination, its
   * applied LSN and the oldest LSN held. `resumeForward(name, { skipGap: true })` goes on from the
   * oldest held (the changes between are lost to that receiver); `resumeForward(name)` tries again.
   */
  gap: { destination: string; appliedLsn: number; heldFromLsn: number } | null;
}

/** What `applyOnce` did with a batch. */
export interface ApplyResult {
  /** False for a redelivered batch: nothing was written. */
  applied: boolean;
  /** Changes handed to `fn` (those after what was already applied). */
  changes: number;
  /** The source's LSN now applied for this forward. */
  appliedLsn: number;
}

/** A forward after `forward([...])` checked it. */
export interface ResolvedForward {
  name: string;
  tables: readonly string[];
  /** Declared columns per table; a table missing here exports all its columns. */
  columns: ReadonlyMap<string, readonly string[]>;
  where: ((change: Change) => boolean) | undefined;
  to: ForwardTarget;
  size: number;
  maxWaitMs: number;
  attempts: number;
  backoffMs: number;
  maxBackoffMs: number;
  timeoutMs: number;
  start: "now" | "start";
}
