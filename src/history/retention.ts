import { ActorError } from "../errors";
import type { HistorySettings } from "./config";
import { floorLsn, lastLsn, readState, TX_FACTS, WAL, writeState } from "./store";
import { lowestAck } from "./subscribers";
import { lsnAfter } from "./time";

export interface PruneResult {
  /** Changes deleted by this call. */
  pruned: number;
  /** The first LSN still held. */
  floorLsn: number;
  /** More is due: call again (each call deletes at most `maxPerCall` changes). */
  more: boolean;
  /** What held pruning back, if anything. */
  heldBy?: "subscriber" | "merge-base" | "newest-transaction";
}

/**
 * Delete changes older than the retention age and beyond the size limit, whole transactions only,
 * never the newest transaction (LSNs must never be reused), never a change a durable subscriber has
 * not acknowledged, and never (on a branch) a change its parent has not merged yet.
 */
export function prune(
  sql: SqlStorage,
  settings: HistorySettings,
  options: { now?: number; maxPerCall?: number } = {},
): PruneResult {
  const now = options.now ?? Date.now();
  const maxPerCall = options.maxPerCall ?? 50_000;
  if (!Number.isFinite(now)) throw new ActorError("VALIDATION_FAILED", "now must be epoch milliseconds");
  if (!Number.isSafeInteger(maxPerCall) || maxPerCall < 1)
    throw new ActorError("VALIDATION_FAILED", "maxPerCall must be a positive integer");
  const floor = floorLsn(sql);
  const last = lastLsn(sql);
  let cut = floor;
  if (settings.retainMs !== undefined) cut = Math.max(cut, lsnAfter(sql, now - settings.retainMs));
  if (settings.maxChanges !== undefined) cut = Math.max(cut, last - settings.maxChanges + 1);
  let heldBy: PruneResult["heldBy"];
  const limit = (bound: number, why: PruneResult["heldBy"]) => {
    if (bound < cut) {
      cut = bound;
      heldBy = why;
    }
  };
  const acked = lowestAck(sql);
  if (acked !== undefined) limit(acked + 1, "subscriber");
  const mergeBase = readState(sql, "merge_base");
  if (typeof mergeBase === "number") limit(mergeBase + 1, "merge-base");
  // Keep the transaction of the newest change: the WAL's rowid must never start over.
  const newest = sql.exec<{ tx: number }>(`SELECT tx FROM ${WAL} ORDER BY lsn DESC LIMIT 1`).toArray()[0];
  if (!newest) return { pruned: 0, floorLsn: floor, more: false };
  limit(newest.tx, "newest-transaction");
  const wanted = cut;
  cut = Math.min(cut, floor + maxPerCall);
  // Whole transactions only: back up to the start of the transaction holding `cut`.
  const holder = sql
    .exec<{ tx: number }>(`SELECT tx FROM ${WAL} WHERE lsn >= ? ORDER BY lsn LIMIT 1`, cut)
    .toArray()[0];
  if (holder) cut = Math.min(cut, holder.tx);
  if (cut <= floor) return { pruned: 0, floorLsn: floor, more: false, heldBy };
  // The time of the newest pruned transaction: AS OF an earlier time is no longer possible.
  const lastPruned = sql
    .exec<{ at: number }>(
      `SELECT x.at FROM ${WAL} w ${TX_FACTS} WHERE w.lsn < ? ORDER BY w.lsn DESC LIMIT 1`,
      cut,
    )
    .toArray()[0];
  sql.exec(`DELETE FROM ${WAL} WHERE lsn < ?`, cut);
  const pruned = Number(sql.exec("SELECT changes() AS n").one().n);
  writeState(sql, "floor_lsn", cut);
  if (lastPruned) writeState(sql, "floor_at", lastPruned.at);
  return { pruned, floorLsn: cut, more: cut < wanted, heldBy };
}
