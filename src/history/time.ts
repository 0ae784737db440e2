import { quoteIdent } from "../database";
import { ActorError } from "../errors";
import { floorLsn, lastLsn, readState, TRACKED, WAL } from "./store";

/** A point in time from a caller: epoch ms, a Date, or an ISO-8601 string. */
export function toTime(value: unknown, what = "timestamp"): number {
  let ms: number | undefined;
  if (typeof value === "number") ms = value;
  else if (value instanceof Date) ms = value.getTime();
  else if (typeof value === "string" && value.trim() !== "")
    ms = /^\d+$/.test(value.trim()) ? Number(value) : Date.parse(value);
  if (ms === undefined || !Number.isFinite(ms) || ms < 0 || ms > 8.64e15)
    throw new ActorError(
      "VALIDATION_FAILED",
      `${what} must be epoch milliseconds, a Date or an ISO-8601 string`,
    );
  return Math.floor(ms);
}

/**
 * The first LSN written after `time`: the id of the first transaction committed later. Binary search
 * on the rowid (commit times never decrease with the LSN), two lookups per step, no index.
 */
export function lsnAfter(sql: SqlStorage, time: number): number {
  const last = lastLsn(sql);
  // The time of the transaction holding the first change at or after `lsn`, and that transaction.
  const probe = (lsn: number) =>
    sql
      .exec<{ tx: number; at: number }>(
        `SELECT w.tx, x.at FROM ${WAL} w JOIN ${WAL} x ON x.lsn = w.tx WHERE w.lsn >= ? ORDER BY w.lsn LIMIT 1`,
        lsn,
      )
      .toArray()[0];
  let lo = floorLsn(sql);
  let hi = last + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const row = probe(mid);
    if (!row || row.at > time) hi = mid;
    else lo = mid + 1;
  }
  // `lo` is the first LSN whose transaction is later than `time`: the start of that transaction.
  const row = probe(lo);
  return row ? Math.max(row.tx, lo) : last + 1;
}

/** Refuse a time the history of `table` does not cover (before tracking began, or pruned). */
export function assertCovered(sql: SqlStorage, table: string, time: number): void {
  const row = sql
    .exec<{ since_at: number }>(`SELECT since_at FROM ${TRACKED} WHERE tbl = ?`, table)
    .toArray()[0];
  if (!row || time < row.since_at)
    throw new ActorError(
      "HISTORY_UNAVAILABLE",
      `history of table ${quoteIdent(table)} starts at ${row ? new Date(row.since_at).toISOString() : "a later time"}`,
      { table, since: row?.since_at ?? null },
    );
  const prunedAt = readState(sql, "floor_at");
  if (typeof prunedAt === "number" && time < prunedAt)
    throw new ActorError(
      "HISTORY_PRUNED",
      `history before ${new Date(prunedAt).toISOString()} was pruned by retention`,
      { table, prunedBefore: prunedAt, floorLsn: floorLsn(sql) },
    );
}
