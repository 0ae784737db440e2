import { quoteIdent } from "../database";
import { changedImage, keyExpr, rowImage, sqlString } from "./codec";
import { TRIGGER_PREFIX, TX, WAL } from "./store";
import type { TableInfo } from "./tables";

/** Bump when the generated SQL changes, so existing actors regenerate their triggers on wake. */
const TRIGGER_VERSION = 2;

/**
 * Start a transaction row unless one is open (mark -1). `this.transaction` closes its row when it
 * commits; a write outside it (raw SQL) is closed before the next write (see capture.ts), so every
 * statement outside `this.transaction` is its own transaction, cascades included.
 */
const OPEN_TX = `INSERT INTO ${TX} (at, lsn0, mark)
 SELECT max(CAST(unixepoch('subsec') * 1000 AS INTEGER), coalesce(t.at, 0)), coalesce((SELECT max(lsn) FROM ${WAL}), 0) + 1, -1
 FROM (SELECT 1) LEFT JOIN ${TX} t ON t.id = (SELECT max(id) FROM ${TX})
 WHERE t.mark IS NOT -1;`;

const walRow = (table: TableInfo, op: "I" | "U" | "D", key: string, before: string, after: string) =>
  `INSERT INTO ${WAL} (tx, tbl, op, pk, before, after) VALUES ((SELECT max(id) FROM ${TX}), ${sqlString(table.name)}, '${op}', ${key}, ${before}, ${after});`;

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
      `BEGIN ${OPEN_TX} ${walRow(table, "I", keyExpr("NEW", table), "NULL", rowImage("NEW", cols))} END`,
    ),
    make(
      "u",
      "UPDATE",
      `WHEN ${samePk} AND NOT (${sameAll}) BEGIN ${OPEN_TX} ${walRow(table, "U", keyExpr("OLD", table), rowImage("OLD", cols), changedImage(cols))} END`,
    ),
    make(
      "k",
      "UPDATE",
      `WHEN NOT (${samePk}) BEGIN ${OPEN_TX} ${walRow(table, "D", keyExpr("OLD", table), rowImage("OLD", cols), "NULL")} ${walRow(table, "I", keyExpr("NEW", table), "NULL", rowImage("NEW", cols))} END`,
    ),
    make(
      "d",
      "DELETE",
      `BEGIN ${OPEN_TX} ${walRow(table, "D", keyExpr("OLD", table), rowImage("OLD", cols), "NULL")} END`,
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
