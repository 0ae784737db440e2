import { ARCHIVE_ACTOR } from "../database";
import { ActorError } from "../errors";
import { keyId } from "./apply";
import { keyObject, type Row, type WalKey, walKey, walKeyColumns } from "./codec";
import { WAL } from "./store";
import type { TableInfo } from "./tables";

ActorError.defineStatus("ARCHIVED", 409);

/**
 * Rows the tiering archive moved to R2 (its deletes are recorded in transactions of actor
 * ARCHIVE_ACTOR). They were not lost: cold queries and `unionQuery` still read them from the
 * archive. So history must never write such a row back into the hot table (it would then be read
 * twice, hot and cold), nor carry the archive's delete anywhere as if the row were gone.
 */
export interface ArchivedRow {
  key: WalKey;
  /** The row as the archive took it (the delete's before image). */
  image: string | null;
  /** The archive's delete, and whether it is the newest change of the key since `from`. */
  lsn: number;
  last: boolean;
}

/** Keys of `table` the archive deleted at or after LSN `from` (up to `to`), by `keyId`. */
export function archivedSince(
  sql: SqlStorage,
  table: TableInfo,
  from: number,
  to = Number.MAX_SAFE_INTEGER,
): Map<string, ArchivedRow> {
  const found = new Map<string, ArchivedRow>();
  for (const r of sql.exec<{
    pk: SqlStorageValue;
    pk_digits: string | null;
    before: string | null;
    lsn: number;
  }>(
    `SELECT ${walKeyColumns("w.pk")}, w.before, w.lsn FROM ${WAL} w JOIN ${WAL} x ON x.lsn = w.tx
     WHERE w.lsn BETWEEN ? AND ? AND +w.tbl = ? AND w.op = 'D' AND x.actor = ? ORDER BY w.lsn`,
    from,
    to,
    table.name,
    ARCHIVE_ACTOR,
  )) {
    const key = walKey(r);
    found.set(keyId(table.name, key), { key, image: r.before, lsn: r.lsn, last: false });
  }
  if (found.size === 0) return found;
  // Which of them is the newest change of its key (the row was not written again since).
  for (const r of sql.exec<{ pk: SqlStorageValue; pk_digits: string | null; last: number }>(
    `SELECT ${walKeyColumns()}, max(lsn) AS last FROM ${WAL} WHERE lsn BETWEEN ? AND ? AND +tbl = ? GROUP BY pk`,
    from,
    to,
    table.name,
  )) {
    const hit = found.get(keyId(table.name, walKey(r)));
    if (hit && hit.lsn === r.last) hit.last = true;
  }
  return found;
}

/** Is this transaction one of the archive's? */
export function isArchiveTransaction(sql: SqlStorage, txId: number): boolean {
  return (
    sql.exec(`SELECT 1 FROM ${WAL} WHERE lsn = ? AND tx = lsn AND actor = ?`, txId, ARCHIVE_ACTOR).toArray()
      .length > 0
  );
}

/** The typed refusal: writing these rows back would make cold queries read them twice. */
export function archivedConflict(what: string, rows: { table: TableInfo; key: WalKey }[]): ActorError {
  const keys: { table: string; key: Row }[] = rows
    .slice(0, 20)
    .map((r) => ({ table: r.table.name, key: keyObject(r.table, r.key) }));
  return new ActorError(
    "ARCHIVED",
    `${what}: ${rows.length} row(s) of ${[...new Set(rows.map((r) => r.table.name))].join(", ")} were moved to the archive since, in another version than the one asked for (writing them back would make cold queries read them twice)`,
    { rows: rows.length, keys },
  );
}
