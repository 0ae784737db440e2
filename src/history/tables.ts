import { quoteIdent } from "../database";
import { ActorError } from "../errors";
import { type Affinity, affinityOf } from "../sql/affinity";
import { listTables, tableSql } from "../sql/tables";

export { type Affinity, affinityOf };

/** What history needs to know about one table, read from SQLite itself (never from a request). */
export interface ColumnInfo {
  name: string;
  affinity: Affinity;
  /**
   * Values may be blobs, so images encode them: any column can hold a blob in SQLite whatever its
   * declared type, except a rowid alias (INTEGER PRIMARY KEY).
   */
  blobable: boolean;
}

export interface TableInfo {
  name: string;
  columns: ColumnInfo[];
  /** Primary key columns in key order. */
  pk: string[];
  /** Tables this one references by foreign key. */
  parents: string[];
  /** Key columns that can hold NULL (SQLite allows it in a PRIMARY KEY not declared NOT NULL). */
  nullableKey: string[];
}

// `__miniflare_do_name`: under `wrangler dev` (miniflare) an actor reached by name holds that table,
// with a row: without it here, branch() into a fresh actor answered BRANCH_EXISTS.
const INTERNAL = /^(_dosql_|_cf_|__miniflare_|sqlite_|__drizzle)/;

/** Plain user tables: not virtual, not FTS shadow tables, not the framework's own. */
export function userTableNames(sql: SqlStorage): string[] {
  return listTables(sql)
    .filter((t) => !t.virtual && !t.shadow && !INTERNAL.test(t.name))
    .map((t) => t.name);
}

export function describeTable(sql: SqlStorage, name: string): TableInfo | undefined {
  const cols = sql
    .exec<{ name: string; type: string; pk: number; notnull: number }>(
      'SELECT name, type, pk, "notnull" FROM pragma_table_info(?)',
      name,
    )
    .toArray();
  if (cols.length === 0) return undefined;
  const parents = sql
    .exec<{ table: string }>('SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)', name)
    .toArray()
    .map((r) => r.table);
  const keyCols = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
  const withoutRowid = /\bWITHOUT\s+ROWID\s*$/i.test(tableSql(sql, name) ?? "");
  // An INTEGER PRIMARY KEY is the rowid: never NULL, never a blob.
  const rowidAlias =
    !withoutRowid && keyCols.length === 1 && (keyCols[0].type ?? "").toUpperCase() === "INTEGER"
      ? keyCols[0].name
      : undefined;
  return {
    name,
    columns: cols.map((c) => ({
      name: c.name,
      affinity: affinityOf(c.type ?? ""),
      blobable: c.name !== rowidAlias,
    })),
    pk: keyCols.map((c) => c.name),
    parents,
    // WITHOUT ROWID tables enforce NOT NULL on their key; rowid tables do not (a SQLite quirk).
    nullableKey: keyCols
      .filter((c) => c.notnull === 0 && c.name !== rowidAlias && !withoutRowid)
      .map((c) => c.name),
  };
}

/** Why a table cannot be tracked, or undefined when it can. */
export function untrackableReason(info: TableInfo): string | undefined {
  if (info.pk.length === 0) return "it has no primary key";
  if (info.nullableKey.length)
    return `its key column ${quoteIdent(info.nullableKey[0])} can be NULL (declare it NOT NULL): rows with a NULL key have no identity in history`;
  const bad = info.columns.find((c) => c.name.includes('"'));
  if (bad) return `its column ${quoteIdent(bad.name)} has a double quote in its name`;
  return undefined;
}

/** Order tables so that every table comes after the tables it references (cycles keep their order). */
export function parentsFirst(tables: readonly TableInfo[]): TableInfo[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: TableInfo[] = [];
  const visit = (t: TableInfo) => {
    if (done.has(t.name) || visiting.has(t.name)) return;
    visiting.add(t.name);
    for (const p of t.parents) {
      const parent = byName.get(p);
      if (parent && parent !== t) visit(parent);
    }
    visiting.delete(t.name);
    done.add(t.name);
    out.push(t);
  };
  for (const t of tables) visit(t);
  return out;
}

/** A table name from a caller, checked against the tracked tables. */
export function requireTracked(tracked: ReadonlyMap<string, TableInfo>, table: unknown): TableInfo {
  if (typeof table !== "string" || table.length === 0)
    throw new ActorError("VALIDATION_FAILED", "table must be a non-empty string");
  const info = tracked.get(table);
  if (!info)
    throw new ActorError("HISTORY_NOT_TRACKED", `table ${quoteIdent(table)} is not tracked by history`, {
      table,
    });
  return info;
}
