import { quoteIdent } from "../database";
import { changedImage, keyExpr, rowImage, sqlString } from "./codec";
import { TRIGGER_PREFIX, WAL } from "./store";
import type { TableInfo } from "./tables";

/** Bump when the generated SQL changes, so existing actors regenerate their triggers on wake. */
const TRIGGER_VERSION = 3;

/**
 * One WAL row per change, in one statement: it joins the newest transaction while that is open
 * (mark -1), or starts one (its own LSN becomes the id; time never decreases). `this.transaction`
 * closes its transaction when it commits; a write outside it is closed just before the next write
 * (see capture.ts), so each statement outside `this.transaction` is its own transaction.
 */
const walRow = (table: TableInfo, op: "I" | "U" | "D", key: string, before: string, after: string) =>
  `INSERT INTO ${WAL} (lsn, tx, at, mark, tbl, op, pk, before, after)
 SELECT m.n, CASE WHEN o.mark = -1 THEN o.lsn ELSE m.n END,
  CASE WHEN o.mark = -1 THEN NULL ELSE max(CAST(unixepoch('subsec') * 1000 AS INTEGER), coalesce(o.at, 0)) END,
  CASE WHEN o.mark = -1 THEN NULL ELSE -1 END,
  ${sqlString(table.name)}, '${op}', ${key}, ${before}, ${after}
 FROM (SELECT coalesce(max(lsn), 0) + 1 AS n FROM ${WAL}) AS m
 LEFT JOIN ${WAL} AS o ON o.lsn = (SELECT tx FROM ${WAL} WHERE lsn = m.n - 1);`;

export const triggerName = (table: string, kind: string): string => `${TRIGGER_PREFIX}${table}_${kind}`;

/** The four capture triggers of a tracked table: insert, update, key change (delete + insert), delete. */
export function captureTriggers(table: TableInfo): { name: string; sql: string }[] {
  const on = quoteIdent(table.name);
  const cols = table.columns;
  const samePk = table.pk.map((c) => `OLD.${quoteIdent(c)} IS NEW.${quoteIdent(c)}`).join(" AND ");
  const sameAll = cols.map((c) => `OLD.${quoteIdent(c.name)} IS NEW.${quoteIdent(c.name)}`).join(" AND ");
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

/** An append-only table is its own history: it is not captured, and updates are refused. */
export function appendOnlyTriggers(table: TableInfo): { name: string; sql: string }[] {
  const name = triggerName(table.name, "a");
  const message = sqlString(
    `ActorError:APPEND_ONLY:table ${table.name} is append-only (history reads it by its time column)`,
  );
  return [
    {
      name,
      sql: `CREATE TRIGGER ${quoteIdent(name)} BEFORE UPDATE ON ${quoteIdent(table.name)} BEGIN SELECT RAISE(ABORT, ${message}); END`,
    },
  ];
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
