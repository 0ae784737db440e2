import { quoteIdent } from "../database";
import { changedImage, keyExpr, rowImage, sqlString } from "./codec";
import { TRIGGER_PREFIX, WAL } from "./store";
import type { TableInfo } from "./tables";

/** Bump when the generated SQL changes, so existing actors regenerate their triggers on wake. */
const TRIGGER_VERSION = 8;

const NOW = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";
/** The newest WAL row, as `w`: while its mark is -1 its transaction is open. */
const NEWEST_ROW = `FROM ${WAL} AS w ORDER BY w.lsn DESC LIMIT 1`;
/** Its transaction's time (rows written before trigger v4 kept it on the first row only). */
const NEWEST_AT = `coalesce(w.at, (SELECT x.at FROM ${WAL} AS x WHERE x.lsn = w.tx))`;

/**
 * One WAL row per change, in one statement: it joins the newest transaction while that is open
 * (the newest row has mark -1), or starts one (its own LSN becomes the id; time never decreases).
 * Every row written while its transaction is open carries mark -1 and the transaction's time, so
 * joining reads the newest row alone; the close clears the newest row's mark (see capture.ts).
 * A single-row VALUES with scalar subqueries (an `INSERT … SELECT` from the WAL itself costs
 * more); the LSN is the rowid SQLite assigns (the largest plus one), a new transaction's id.
 */
const walRow = (table: TableInfo, op: "I" | "U" | "D", key: string, before: string, after: string) =>
  `INSERT INTO ${WAL} (tx, at, mark, tbl, op, pk, before, after) VALUES (
  coalesce((SELECT CASE WHEN w.mark = -1 THEN w.tx ELSE w.lsn + 1 END ${NEWEST_ROW}), 1),
  coalesce((SELECT CASE WHEN w.mark = -1 THEN ${NEWEST_AT} ELSE max(${NOW}, coalesce(${NEWEST_AT}, 0)) END ${NEWEST_ROW}), ${NOW}),
  -1, ${sqlString(table.name)}, '${op}', ${key}, ${before}, ${after});`;

export const triggerName = (table: string, kind: string): string => `${TRIGGER_PREFIX}${table}_${kind}`;

/** The four capture triggers of a tracked table: insert, update, key change (delete + insert), delete. */
export function captureTriggers(table: TableInfo): { name: string; sql: string }[] {
  const on = quoteIdent(table.name);
  const cols = table.columns;
  // Compared byte for byte: `IS` takes a column's own collation, so under NOCASE (or RTRIM) a change
  // of case (or of trailing spaces) compared equal and went unrecorded (undo, restore, AS OF missed it).
  const samePk = table.pk
    .map((c) => `OLD.${quoteIdent(c)} IS NEW.${quoteIdent(c)} COLLATE BINARY`)
    .join(" AND ");
  // A column without affinity can hold 1 and then 1.0, which IS calls equal: compare types there too.
  const sameAll = cols
    .map((c) => {
      const [o, n] = [`OLD.${quoteIdent(c.name)}`, `NEW.${quoteIdent(c.name)}`];
      return c.affinity === "BLOB"
        ? `(${o} IS ${n} COLLATE BINARY AND typeof(${o}) = typeof(${n}))`
        : `${o} IS ${n} COLLATE BINARY`;
    })
    .join(" AND ");
  const make = (kind: string, event: string, body: string) => {
    const name = triggerName(table.name, kind);
    return { name, sql: `CREATE TRIGGER ${quoteIdent(name)} AFTER ${event} ON ${on} ${body}` };
  };
  return [
    make(
      "i",
      "INSERT",
      `BEGIN ${walRow(table, "I", keyExpr("NEW", table), "NULL", rowImage("NEW", cols))} END`,
    ),
    make(
      "u",
      "UPDATE",
      `WHEN ${samePk} AND NOT (${sameAll}) BEGIN ${walRow(table, "U", keyExpr("OLD", table), rowImage("OLD", cols), changedImage(cols))} END`,
    ),
    make(
      "k",
      "UPDATE",
      `WHEN NOT (${samePk}) BEGIN ${walRow(table, "D", keyExpr("OLD", table), rowImage("OLD", cols), "NULL")} ${walRow(table, "I", keyExpr("NEW", table), "NULL", rowImage("NEW", cols))} END`,
    ),
    make(
      "d",
      "DELETE",
      `BEGIN ${walRow(table, "D", keyExpr("OLD", table), rowImage("OLD", cols), "NULL")} END`,
    ),
  ];
}

/**
 * An append-only table is its own history: it is not captured, and updates and deletes are
 * refused (a deleted row would vanish from `FOR SYSTEM_TIME` reads, which read the table itself).
 */
export function appendOnlyTriggers(table: TableInfo): { name: string; sql: string }[] {
  const message = sqlString(
    `ActorError:APPEND_ONLY:table ${table.name} is append-only (history reads it by its time column)`,
  );
  return (["UPDATE", "DELETE"] as const).map((event) => {
    const name = triggerName(table.name, event === "UPDATE" ? "a" : "ad");
    return {
      name,
      sql: `CREATE TRIGGER ${quoteIdent(name)} BEFORE ${event} ON ${quoteIdent(table.name)} BEGIN SELECT RAISE(ABORT, ${message}); END`,
    };
  });
}

/** What the triggers depend on: regenerate when it changes. */
export function signature(table: TableInfo, mode: "capture" | "append", timeColumn?: string): string {
  return JSON.stringify({
    v: TRIGGER_VERSION,
    mode,
    cols: table.columns.map((c) => [c.name, c.blobable]),
    pk: table.pk,
    time: timeColumn,
  });
}

export function existingTriggers(sql: SqlStorage): { name: string; table: string }[] {
  return sql
    .exec<{ name: string; table: string }>(
      "SELECT name, tbl_name AS \"table\" FROM sqlite_master WHERE type = 'trigger' AND name LIKE ? ESCAPE '\\'",
      `${TRIGGER_PREFIX.replaceAll("_", "\\_")}%`,
    )
    .toArray();
}

export function dropTrigger(sql: SqlStorage, name: string): void {
  sql.exec(`DROP TRIGGER IF EXISTS ${quoteIdent(name)}`);
}

/** Drop every history trigger (before migrations, and while a branch is seeded). */
export function dropAllTriggers(sql: SqlStorage): void {
  for (const t of existingTriggers(sql)) dropTrigger(sql, t.name);
}
