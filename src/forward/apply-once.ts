import { ActorError } from "../errors";
import type { ApplyResult, ForwardBatch, ForwardChange } from "./types";

/** What `applyOnce` needs of the receiving actor: its SQL and its transaction. */
export interface ApplyHost {
  query<T = Record<string, SqlStorageValue>>(sql: string, params?: readonly unknown[]): T[];
  run(sql: string, params?: readonly unknown[]): unknown;
  transaction<T>(fn: () => T extends PromiseLike<unknown> ? never : T, options?: { actor?: string }): T;
}

ActorError.defineStatus("FORWARD_GAP", 409);

export const APPLIED = "_dosql_applied";
const ready = new WeakSet<object>();
const OPS = new Set(["insert", "update", "delete"]);
const NAME = /^[A-Za-z0-9._-]{1,64}$/;

const bad = (message: string) => new ActorError("VALIDATION_FAILED", `forward batch: ${message}`);
const lsnOk = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Check a batch that came over a queue or RPC: shapes, ranges, LSN order. */
export function checkBatch(batch: unknown): ForwardBatch {
  if (!batch || typeof batch !== "object") throw bad("must be an object");
  const b = batch as Record<string, unknown>;
  if (typeof b.source !== "string" || b.source.length === 0 || b.source.length > 256)
    throw bad("source must be a string of 1 to 256 characters");
  if (typeof b.forward !== "string" || !NAME.test(b.forward)) throw bad("forward must be a forward name");
  if (b.epoch !== undefined && !lsnOk(b.epoch)) throw bad("epoch must be a whole number of milliseconds");
  if (!lsnOk(b.after) || !lsnOk(b.from) || !lsnOk(b.to) || b.from < 1 || b.from > b.to || b.after >= b.to)
    throw bad("needs from ≤ to and after < to, whole numbers");
  if (!Array.isArray(b.changes) || b.changes.length > 10_000)
    throw bad("changes must be a list of at most 10,000");
  let previous = 0;
  for (const c of b.changes as unknown[]) {
    const change = c as Record<string, unknown>;
    if (!change || typeof change !== "object") throw bad("every change must be an object");
    if (!lsnOk(change.lsn) || change.lsn < b.from || change.lsn > b.to || change.lsn <= previous)
      throw bad("change LSNs must rise within from..to");
    previous = change.lsn;
    if (typeof change.table !== "string" || !OPS.has(change.op as string))
      throw bad("every change needs a table and an op (insert, update, delete)");
    if (!change.key || typeof change.key !== "object") throw bad("every change needs a key object");
  }
  return batch as ForwardBatch;
}

/**
 * Apply a forwarded batch exactly once in effect: in one transaction, `fn` gets the changes this
 * actor has not applied yet (by source, forward and LSN) and the applied LSN is recorded with them.
 * A redelivered batch changes nothing (`applied: false`). A batch that arrived before an earlier
 * one (from a queue, which does not keep order) is refused with FORWARD_GAP (409): retry it later.
 * A batch of a later `epoch` comes from a sender that was destroyed and written again (its LSNs
 * started over): it is applied from its start, and `fn` is told (`reset`) so that it can drop
 * what it keyed on the old LSNs; a batch of an earlier epoch than the one applied is stale and
 * changes nothing. `fn` must be synchronous; throwing rolls everything back.
 */
export function applyOnce(
  actor: ApplyHost,
  batch: unknown,
  fn: (changes: ForwardChange[], batch: ForwardBatch, info: { reset: boolean }) => void,
): ApplyResult {
  const b = checkBatch(batch);
  if (typeof fn !== "function") throw new ActorError("VALIDATION_FAILED", "applyOnce needs a function");
  if (!ready.has(actor)) {
    actor.run(
      `CREATE TABLE IF NOT EXISTS ${APPLIED} (source TEXT NOT NULL, forward TEXT NOT NULL, lsn INTEGER NOT NULL, at INTEGER NOT NULL, epoch INTEGER, PRIMARY KEY (source, forward))`,
    );
    // Tables made before epochs existed get the column (NULL: the sender's epoch is adopted).
    if (!actor.query<{ name: string }>(`PRAGMA table_info(${APPLIED})`).some((c) => c.name === "epoch"))
      actor.run(`ALTER TABLE ${APPLIED} ADD COLUMN epoch INTEGER`);
    ready.add(actor);
  }
  return actor.transaction(
    () => {
      const row = appliedRow(actor, b.source, b.forward);
      let applied = row?.lsn ?? 0;
      const known = row?.epoch ?? null;
      if (b.epoch !== undefined && known !== null && b.epoch < known)
        return { applied: false, changes: 0, appliedLsn: applied };
      const reset = b.epoch !== undefined && known !== null && b.epoch > known;
      if (reset) applied = 0;
      if (b.to <= applied) return { applied: false, changes: 0, appliedLsn: applied };
      if (b.after > applied)
        throw new ActorError(
          "FORWARD_GAP",
          `batch ${b.from}-${b.to} of ${b.source}/${b.forward} follows LSN ${b.after}, but only ${applied} is applied: deliver the earlier batch first`,
          { applied, after: b.after },
        );
      const fresh = b.changes.filter((c) => c.lsn > applied);
      fn(fresh, b, { reset });
      actor.run(
        `INSERT INTO ${APPLIED} (source, forward, lsn, at, epoch) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (source, forward) DO UPDATE SET lsn = excluded.lsn, at = excluded.at,
           epoch = coalesce(excluded.epoch, epoch)`,
        [b.source, b.forward, b.to, Date.now(), b.epoch ?? null],
      );
      return { applied: true, changes: fresh.length, appliedLsn: b.to };
    },
    { actor: `forward:${b.source}/${b.forward}` },
  );
}

/** The LSN of `source`'s forward this actor has applied (0 when none). */
export function appliedLsn(actor: Pick<ApplyHost, "query">, source: string, forward: string): number {
  if (!ready.has(actor)) {
    const exists = actor.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [APPLIED]);
    if (exists.length === 0) return 0;
  }
  return appliedRow(actor, source, forward)?.lsn ?? 0;
}

/** What this actor has applied of `source`'s forward: the LSN and the sender's epoch then. */
function appliedRow(
  actor: Pick<ApplyHost, "query">,
  source: string,
  forward: string,
): { lsn: number; epoch: number | null } | undefined {
  return actor.query<{ lsn: number; epoch: number | null }>(
    `SELECT lsn, epoch FROM ${APPLIED} WHERE source = ? AND forward = ?`,
    [source, forward],
  )[0];
}
