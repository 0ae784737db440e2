import { quoteIdent } from "../database";

/** One table of the database, as `listTables` reports it. */
export interface TableEntry {
  name: string;
  /** A virtual table (FTS5, …). */
  virtual: boolean;
  /** A shadow table a virtual table keeps its data in (`<vtab>_…`). */
  shadow: boolean;
  /** False for WITHOUT ROWID tables. */
  rowid: boolean;
}

/**
 * Every table of the database but SQLite's own and the runtime's `_cf_` ones, by name, from
 * sqlite_master. Never from `pragma_table_list`: it also reads `_cf_` tables, which DO SQLite
 * refuses (SQLITE_AUTH) once the runtime has created them (e.g. after an alarm). Callers filter
 * further (the framework's `_dosql_` tables, virtual and shadow tables) for what they need.
 */
export function listTables(sql: SqlStorage): TableEntry[] {
  const rows = sql
    .exec<{ name: string; sql: string | null }>(
      "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name",
    )
    .toArray();
  const virtual = rows.filter((r) => /^\s*CREATE\s+VIRTUAL\s/i.test(r.sql ?? "")).map((r) => r.name);
  return rows.map((r) => {
    const text = r.sql ?? "";
    return {
      name: r.name,
      virtual: virtual.includes(r.name),
      shadow: virtual.some((v) => r.name !== v && r.name.startsWith(`${v}_`)),
      rowid: !/\bWITHOUT\s+ROWID\b/i.test(text.slice(text.lastIndexOf(")"))),
    };
  });
}

/** Is there a table of this name? */
export function tableExists(sql: SqlStorage, name: string): boolean {
  return sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", name).toArray().length > 0;
}

/** A table's CREATE statement as sqlite_master keeps it (undefined when there is no such table). */
export function tableSql(sql: SqlStorage, name: string): string | undefined {
  return (
    sql
      .exec<{ sql: string | null }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", name)
      .toArray()[0]?.sql ?? undefined
  );
}

/** Drop every table whose name starts with `prefix` (the framework's scratch and staging tables). */
export function dropTablesWithPrefix(sql: SqlStorage, prefix: string): void {
  const names = sql
    .exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, ?) = ?",
      prefix.length,
      prefix,
    )
    .toArray();
  for (const { name } of names) sql.exec(`DROP TABLE IF EXISTS ${quoteIdent(name)}`);
}

/**
 * Give a framework table the columns later versions added (`[name, type]`, added NULL), when a
 * table made by an older version lacks them. Names and types are the framework's own literals.
 */
export function addMissingColumns(
  sql: SqlStorage,
  table: string,
  columns: readonly (readonly [string, string])[],
): void {
  const have = new Set(
    sql
      .exec<{ name: string }>("SELECT name FROM pragma_table_info(?)", table)
      .toArray()
      .map((c) => c.name),
  );
  for (const [name, type] of columns)
    if (!have.has(name)) sql.exec(`ALTER TABLE ${quoteIdent(table)} ADD COLUMN ${quoteIdent(name)} ${type}`);
}
