import { quoteIdent } from "../database";
import { ActorError } from "../errors";
import { floorLsn, lastLsn, readState, TRACKED, TX } from "./store";

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
 * The first LSN written after `time`: the `lsn0` of the first transaction committed later, found by
 * binary search on the transaction table's rowid (times only grow with the id), so it costs a
 * logarithmic number of lookups and no index.
 */
export function lsnAfter(sql: SqlStorage, time: number): number {
  const bounds = sql
    .exec<{ lo: number | null; hi: number | null }>(`SELECT min(id) AS lo, max(id) AS hi FROM ${TX}`)
    .one();
  if (bounds.lo === null || bounds.hi === null) return lastLsn(sql) + 1;
  const first = (id: number) =>
    sql
      .exec<{ at: number; lsn0: number }>(`SELECT at, lsn0 FROM ${TX} WHERE id >= ? ORDER BY id LIMIT 1`, id)
      .toArray()[0];
  let lo = bounds.lo;
  let hi = bounds.hi + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const row = first(mid);
    if (!row || row.at > time) hi = mid;
    else lo = mid + 1;
  }
  return first(lo)?.lsn0 ?? lastLsn(sql) + 1;
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
