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
  if (
    b.sourceId !== undefined &&
    (typeof b.sourceId !== "string" || b.sourceId.length === 0 || b.sourceId.length > 256)
  )
    throw bad("sourceId must be a string of 1 to 256 characters");
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
  prepare(actor);
  return actor.transaction(
    () => {
      const { id, row } = claimRow(actor, b);
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
        `INSERT INTO ${APPLIED} (source, forward, source_id, lsn, at, epoch) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (source, forward, source_id) DO UPDATE SET lsn = excluded.lsn, at = excluded.at,
           epoch = coalesce(excluded.epoch, epoch)`,
        [b.source, b.forward, id, b.to, Date.now(), b.epoch ?? null],
      );
      return { applied: true, changes: fresh.length, appliedLsn: b.to };
    },
    { actor: `forward:${b.source}/${b.forward}` },
  );
}

/**
 * The LSN of `source`'s forward this actor has applied (0 when none). `sourceId` (a batch's
 * `sourceId`) tells apart senders of different classes that share an instance name; without it,
 * the one sender of that name (VALIDATION_FAILED when several have forwarded under it).
 */
export function appliedLsn(
  actor: Pick<ApplyHost, "query">,
  source: string,
  forward: string,
  sourceId?: string,
): number {
  const exists = actor.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [APPLIED]);
  if (exists.length === 0) return 0;
  if (sourceId !== undefined && hasSourceId(actor))
    return (appliedRow(actor, source, forward, sourceId) ?? legacyRow(actor, source, forward))?.lsn ?? 0;
  // No sourceId, or a record made before sourceId (one row per name and forward): the one sender of the name.
  const rows = actor.query<{ lsn: number }>(`SELECT lsn FROM ${APPLIED} WHERE source = ? AND forward = ?`, [
    source,
    forward,
  ]);
  if (rows.length > 1)
    throw new ActorError(
      "VALIDATION_FAILED",
      `several senders named ${source} forward ${forward} here: pass the sourceId of the one meant`,
    );
  return rows[0]?.lsn ?? 0;
}

/**
 * The key of a sender before batches carried `sourceId`: rows recorded then (and batches of
 * senders not upgraded yet) have this. A sender's first batch with its `sourceId` claims the
 * row of its name, so what was applied before the upgrade is still not applied twice.
 */
const LEGACY = "";

const hasSourceId = (actor: Pick<ApplyHost, "query">) =>
  actor.query<{ name: string }>(`PRAGMA table_info(${APPLIED})`).some((c) => c.name === "source_id");

/**
 * Create the applied record, or bring an older one up to date: the epoch column (NULL: the
 * sender's epoch is adopted), then `source_id` in the key (rebuilt in one transaction, every
 * row kept with the legacy id, to be claimed by its sender's next batch).
 */
function prepare(actor: ApplyHost): void {
  if (ready.has(actor)) return;
  actor.transaction(() => {
    const columns = actor.query<{ name: string }>(`PRAGMA table_info(${APPLIED})`).map((c) => c.name);
    if (columns.length > 0 && !columns.includes("source_id")) {
      actor.run(`ALTER TABLE ${APPLIED} RENAME TO ${APPLIED}_old`);
      create(actor);
      actor.run(
        `INSERT INTO ${APPLIED} (source, forward, source_id, lsn, at, epoch)
         SELECT source, forward, ?, lsn, at, ${columns.includes("epoch") ? "epoch" : "NULL"} FROM ${APPLIED}_old`,
        [LEGACY],
      );
      actor.run(`DROP TABLE ${APPLIED}_old`);
    } else create(actor);
  });
  ready.add(actor);
}

function create(actor: ApplyHost): void {
  actor.run(
    `CREATE TABLE IF NOT EXISTS ${APPLIED} (source TEXT NOT NULL, forward TEXT NOT NULL, source_id TEXT NOT NULL DEFAULT '',
      lsn INTEGER NOT NULL, at INTEGER NOT NULL, epoch INTEGER, PRIMARY KEY (source, forward, source_id))`,
  );
}

/**
 * What this actor has applied of the batch's sender, and the key its record is kept under: its
 * own row (by name, forward and `sourceId`), else the legacy row of its name, claimed for it here
 * (inside the transaction). A batch without `sourceId` (a sender not upgraded yet, or one sent
 * before the upgrade) goes to the legacy row, or to the one sender of its name that claimed it.
 */
function claimRow(
  actor: ApplyHost,
  b: ForwardBatch,
): { id: string; row: { lsn: number; epoch: number | null } | undefined } {
  if (b.sourceId === undefined) {
    const rows = actor.query<{ source_id: string; lsn: number; epoch: number | null }>(
      `SELECT source_id, lsn, epoch FROM ${APPLIED} WHERE source = ? AND forward = ?`,
      [b.source, b.forward],
    );
    if (rows.length > 1)
      throw bad(`several senders named ${b.source} forward ${b.forward} here: a batch needs its sourceId`);
    return rows[0] ? { id: rows[0].source_id, row: rows[0] } : { id: LEGACY, row: undefined };
  }
  const id = b.sourceId;
  const own = appliedRow(actor, b.source, b.forward, id);
  if (own) return { id, row: own };
  const legacy = legacyRow(actor, b.source, b.forward);
  if (legacy)
    actor.run(`UPDATE ${APPLIED} SET source_id = ? WHERE source = ? AND forward = ? AND source_id = ?`, [
      id,
      b.source,
      b.forward,
      LEGACY,
    ]);
  return { id, row: legacy };
}

const legacyRow = (actor: Pick<ApplyHost, "query">, source: string, forward: string) =>
  appliedRow(actor, source, forward, LEGACY);

/** What this actor has applied of one sender's forward: the LSN and the sender's epoch then. */
function appliedRow(
  actor: Pick<ApplyHost, "query">,
  source: string,
  forward: string,
  sourceId: string,
): { lsn: number; epoch: number | null } | undefined {
  return actor.query<{ lsn: number; epoch: number | null }>(
    `SELECT lsn, epoch FROM ${APPLIED} WHERE source = ? AND forward = ? AND source_id = ?`,
    [source, forward, sourceId],
  )[0];
}
