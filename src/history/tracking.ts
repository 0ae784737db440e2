import { quoteIdent } from "../database";
import { ActorError } from "../errors";
import type { HistorySettings } from "./config";
import { createHistoryTables, lastLsn, NEWEST_TX, TRACKED, WAL } from "./store";
import { describeTable, type TableInfo, untrackableReason, userTableNames } from "./tables";
import { appendOnlyTriggers, captureTriggers, dropTrigger, existingTriggers, signature } from "./triggers";

export interface AppendOnlyTable {
  info: TableInfo;
  timeColumn: string;
}

/** The tables history knows about after a wake, read from the schema as the migrations left it. */
export interface Tracking {
  captured: Map<string, TableInfo>;
  appendOnly: Map<string, AppendOnlyTable>;
  /** Tables left out of `tables: "all"`, with the reason. */
  skipped: { table: string; reason: string }[];
}

/**
 * Create the history tables, then make the triggers match the schema: tables whose columns or key
 * changed (a migration ran) get fresh triggers, tables no longer tracked lose theirs. Runs on every
 * wake after migrations, in one transaction; cheap when nothing changed (a few schema reads).
 */
export function installTracking(storage: DurableObjectStorage, settings: HistorySettings): Tracking {
  const sql = storage.sql;
  // REPLACE deletes the rows it replaces without firing delete triggers unless this is on; those
  // deletes must be recorded. (It also lets an application's own triggers recurse, as SQLite allows.)
  sql.exec("PRAGMA recursive_triggers = ON");
  return storage.transactionSync(() => {
    createHistoryTables(sql, settings.keyIndex);
    const tracking = resolveTables(sql, settings);
    const wanted = new Map<string, { sig: string; triggers: { name: string; sql: string }[] }>();
    for (const info of tracking.captured.values())
      wanted.set(info.name, { sig: signature(info, "capture"), triggers: captureTriggers(info) });
    for (const { info, timeColumn } of tracking.appendOnly.values())
      wanted.set(info.name, {
        sig: signature(info, "append", timeColumn),
        triggers: appendOnlyTriggers(info),
      });

    const registry = new Map(
      sql
        .exec<{ tbl: string; sig: string }>(`SELECT tbl, sig FROM ${TRACKED}`)
        .toArray()
        .map((r) => [r.tbl, r.sig]),
    );
    const present = existingTriggers(sql);
    const presentNames = new Set(present.map((t) => t.name));
    const wantedNames = new Set([...wanted.values()].flatMap((w) => w.triggers.map((t) => t.name)));
    for (const t of present) if (!wantedNames.has(t.name)) dropTrigger(sql, t.name);
    for (const table of registry.keys())
      if (!wanted.has(table)) sql.exec(`DELETE FROM ${TRACKED} WHERE tbl = ?`, table);

    const now = Date.now();
    for (const [table, want] of wanted) {
      const current =
        registry.get(table) === want.sig && want.triggers.every((t) => presentNames.has(t.name));
      if (current) continue;
      for (const t of want.triggers) {
        dropTrigger(sql, t.name);
        sql.exec(t.sql);
      }
      if (registry.has(table)) sql.exec(`UPDATE ${TRACKED} SET sig = ? WHERE tbl = ?`, want.sig, table);
      else
        sql.exec(
          `INSERT INTO ${TRACKED} (tbl, sig, since_at, since_lsn) VALUES (?, ?, ?, ?)`,
          table,
          want.sig,
          now,
          lastLsn(sql) + 1,
        );
    }
    // A new connection restarts total_changes(): close whatever transaction the last run left open.
    sql.exec(
      `UPDATE ${WAL} SET mark = NULL WHERE lsn IN ((SELECT max(lsn) FROM ${WAL}), ${NEWEST_TX}) AND mark IS NOT NULL`,
    );
    return tracking;
  });
}

function resolveTables(sql: SqlStorage, settings: HistorySettings): Tracking {
  const appendOnly = new Map<string, AppendOnlyTable>();
  for (const [table, timeColumn] of settings.appendOnly) {
    const info = describeTable(sql, table);
    if (!info)
      throw new ActorError("INVALID_CONFIG", `history.appendOnly names a missing table ${quoteIdent(table)}`);
    if (!info.columns.some((c) => c.name === timeColumn))
      throw new ActorError(
        "INVALID_CONFIG",
        `history.appendOnly: table ${quoteIdent(table)} has no column ${quoteIdent(timeColumn)}`,
      );
    appendOnly.set(table, { info, timeColumn });
  }
  const captured = new Map<string, TableInfo>();
  const skipped: { table: string; reason: string }[] = [];
  const names = settings.tables === "all" ? userTableNames(sql) : settings.tables;
  for (const table of names) {
    if (appendOnly.has(table)) continue;
    const info = describeTable(sql, table);
    const reason = info ? untrackableReason(info) : "it does not exist";
    if (reason) {
      if (settings.tables !== "all")
        throw new ActorError("INVALID_CONFIG", `history cannot track table ${quoteIdent(table)}: ${reason}`);
      skipped.push({ table, reason });
      continue;
    }
    captured.set(table, info!);
  }
  return { captured, appendOnly, skipped };
}
