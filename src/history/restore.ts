import { ActorError } from "../errors";
import { applyTargets, type RowTarget } from "./apply";
import { keyObject } from "./codec";
import { floorLsn, lastLsn, TX, WAL } from "./store";
import type { TableInfo } from "./tables";
import { assertCovered, lsnAfter } from "./time";

/** Row states that put `tables` back to how they were at `time` (the first change after it, undone). */
export function restoreTargets(sql: SqlStorage, tables: readonly TableInfo[], time: number): RowTarget[] {
  for (const t of tables) assertCovered(sql, t.name, time);
  const from = lsnAfter(sql, time);
  const targets: RowTarget[] = [];
  for (const table of tables) {
    const rows = sql
      .exec<{ pk: SqlStorageValue; before: string | null }>(
        `SELECT pk, before, min(lsn) FROM ${WAL} WHERE lsn >= ? AND +tbl = ? GROUP BY pk`,
        from,
        table.name,
      )
      .toArray();
    for (const r of rows) targets.push({ table, key: r.pk, image: r.before });
  }
  return targets;
}

export interface UndoConflict {
  table: string;
  key: Record<string, unknown>;
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
  const tx = sql.exec<{ lsn0: number }>(`SELECT lsn0 FROM ${TX} WHERE id = ?`, txId).toArray()[0];
  if (!tx) throw new ActorError("TX_NOT_FOUND", `transaction ${txId} is not in the history`, { txId });
  if (tx.lsn0 < floorLsn(sql))
    throw new ActorError("HISTORY_PRUNED", `transaction ${txId} was pruned by retention`, { txId });
  const next = sql
    .exec<{ lsn0: number }>(`SELECT lsn0 FROM ${TX} WHERE id > ? ORDER BY id LIMIT 1`, txId)
    .toArray()[0];
  const end = next ? next.lsn0 - 1 : lastLsn(sql);
  const rows = sql
    .exec<{ tbl: string; pk: SqlStorageValue; before: string | null }>(
      `SELECT tbl, pk, before, min(lsn) AS first FROM ${WAL} WHERE lsn BETWEEN ? AND ? AND tx = ? GROUP BY tbl, pk ORDER BY first`,
      tx.lsn0,
      end,
      txId,
    )
    .toArray();
  const conflicts: UndoConflict[] = [];
  const targets: RowTarget[] = [];
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
    const later = sql
      .exec<{ lsn: number }>(
        `SELECT lsn FROM ${WAL} WHERE tbl = ? AND pk = ? AND lsn > ? ORDER BY lsn LIMIT 1`,
        r.tbl,
        r.pk,
        end,
      )
      .toArray()[0];
    if (later) conflicts.push({ table: r.tbl, key: keyObject(table, r.pk), lsn: later.lsn });
    targets.push({ table, key: r.pk, image: r.before });
  }
  if (conflicts.length)
    throw new ActorError(
      "CONFLICT",
      `cannot undo transaction ${txId}: ${conflicts.length} of its rows changed later`,
      { txId, conflicts },
    );
  return targets;
}

export { applyTargets };
