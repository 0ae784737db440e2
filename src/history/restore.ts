import { ActorError } from "../errors";
import { applyTargets, keyId, type RowTarget } from "./apply";
import { archivedConflict, archivedSince, isArchiveTransaction } from "./archived";
import { keyObject, type Row, sameRow, type WalKey, walKey, walKeyColumns } from "./codec";
import { floorLsn, lastLsn, WAL } from "./store";
import type { TableInfo } from "./tables";
import { assertCovered, lsnAfter } from "./time";

/**
 * Row states that put `tables` back to how they were at `time` (the first change after it, undone).
 * A row the archive moved to R2 since is left there when the archive holds it as it was at `time`
 * (cold queries read it); any other version is refused with ARCHIVED, since writing it back hot
 * would make cold queries read the row twice.
 */
export function restoreTargets(sql: SqlStorage, tables: readonly TableInfo[], time: number): RowTarget[] {
  for (const t of tables) assertCovered(sql, t.name, time);
  const from = lsnAfter(sql, time);
  const targets: RowTarget[] = [];
  const refused: { table: TableInfo; key: WalKey }[] = [];
  for (const table of tables) {
    const rows = sql
      .exec<{ pk: SqlStorageValue; pk_digits: string | null; before: string | null }>(
        `SELECT ${walKeyColumns()}, before, min(lsn) FROM ${WAL} WHERE lsn >= ? AND +tbl = ? GROUP BY pk`,
        from,
        table.name,
      )
      .toArray();
    const archived = archivedSince(sql, table, from);
    for (const r of rows) {
      const key = walKey(r);
      const moved = archived.size ? archived.get(keyId(table.name, key)) : undefined;
      if (moved === undefined) targets.push({ table, key, image: r.before });
      else if (!(moved.last && sameRow(moved.image, r.before))) refused.push({ table, key });
    }
  }
  if (refused.length) throw archivedConflict(`cannot restore to ${new Date(time).toISOString()}`, refused);
  return targets;
}

export interface UndoConflict {
  table: string;
  key: Row;
  /** The later change that touched the row. */
  lsn: number;
}

/** Row states that undo transaction `txId`, or a CONFLICT error when a later change touched its rows. */
export function undoTargets(
  sql: SqlStorage,
  tables: ReadonlyMap<string, TableInfo>,
  txId: number,
): RowTarget[] {
  if (!Number.isSafeInteger(txId) || txId < 1)
    throw new ActorError("VALIDATION_FAILED", "txId must be a positive integer");
  if (txId < floorLsn(sql))
    throw new ActorError("HISTORY_PRUNED", `transaction ${txId} was pruned by retention`, { txId });
  const first = sql.exec(`SELECT 1 FROM ${WAL} WHERE lsn = ? AND tx = lsn`, txId).toArray();
  if (!first.length)
    throw new ActorError("TX_NOT_FOUND", `transaction ${txId} is not in the history`, { txId });
  // Its rows are in R2, read by cold queries: written back hot, they would be read twice.
  if (isArchiveTransaction(sql, txId))
    throw new ActorError(
      "ARCHIVED",
      `transaction ${txId} moved rows to the archive: they are read with cold queries, and cannot be undone into the hot table`,
      { txId },
    );
  // A transaction's changes are contiguous: they end where the next transaction starts.
  const next = sql
    .exec<{ lsn: number }>(
      `SELECT lsn FROM ${WAL} WHERE lsn > ? AND tx <> ? ORDER BY lsn LIMIT 1`,
      txId,
      txId,
    )
    .toArray()[0];
  const end = next ? next.lsn - 1 : lastLsn(sql);
  const rows = sql
    .exec<{ tbl: string; pk: SqlStorageValue; pk_digits: string | null; before: string | null }>(
      `SELECT tbl, ${walKeyColumns()}, before, min(lsn) AS first FROM ${WAL} WHERE lsn BETWEEN ? AND ? GROUP BY tbl, pk ORDER BY first`,
      txId,
      end,
    )
    .toArray();
  const targets: RowTarget[] = [];
  const keys = new Map<string, { table: TableInfo; pk: WalKey }>();
  for (const r of rows) {
    const table = tables.get(r.tbl);
    if (!table)
      throw new ActorError(
        "HISTORY_NOT_TRACKED",
        `transaction ${txId} changed ${r.tbl}, which is no longer tracked`,
        {
          table: r.tbl,
        },
      );
    const pk = walKey(r);
    targets.push({ table, key: pk, image: r.before });
    keys.set(keyId(r.tbl, pk), { table, pk });
  }
  // Later changes to the same rows: one pass over what came after (no key index needed).
  const conflicts: UndoConflict[] = [];
  for (const later of sql.exec<{ tbl: string; pk: SqlStorageValue; pk_digits: string | null; lsn: number }>(
    `SELECT tbl, ${walKeyColumns()}, lsn FROM ${WAL} WHERE lsn > ? ORDER BY lsn`,
    end,
  )) {
    const id = keyId(later.tbl, walKey(later));
    const hit = keys.get(id);
    if (!hit) continue;
    conflicts.push({ table: later.tbl, key: keyObject(hit.table, hit.pk), lsn: later.lsn });
    keys.delete(id);
  }
  if (conflicts.length)
    throw new ActorError(
      "CONFLICT",
      `cannot undo transaction ${txId}: ${conflicts.length} of its rows changed later`,
      {
        txId,
        conflicts,
      },
    );
  return targets;
}

export { applyTargets };
