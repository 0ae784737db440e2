import { quoteIdent } from "../database";
import { ActorError } from "../errors";
import { type Affinity, affinityOf } from "../sql/affinity";
import { listTables } from "../sql/tables";

export { type Affinity, affinityOf };

/** What history needs to know about one table, read from SQLite itself (never from a request). */
export interface ColumnInfo {
  name: string;
  affinity: Affinity;
  /** Declared type has BLOB affinity (BLOB or none), so values may be blobs and are encoded. */
  blobable: boolean;
}

export interface TableInfo {
  name: string;
  columns: ColumnInfo[];
  /** Primary key columns in key order. */
  pk: string[];
  /** Tables this one references by foreign key. */
  parents: string[];
}

const INTERNAL = /^(_dosql_|_cf_|sqlite_|__drizzle)/;

/** Plain user tables: not virtual, not FTS shadow tables, not the framework's own. */
export function userTableNames(sql: SqlStorage): string[] {
  return listTables(sql)
    .filter((t) => !t.virtual && !t.shadow && !INTERNAL.test(t.name))
    .map((t) => t.name);
}

export function describeTable(sql: SqlStorage, name: string): TableInfo | undefined {
  const cols = sql
    .exec<{ name: string; type: string; pk: number }>("SELECT name, type, pk FROM pragma_table_info(?)", name)
    .toArray();
  if (cols.length === 0) return undefined;
  const parents = sql
    .exec<{ table: string }>('SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)', name)
    .toArray()
    .map((r) => r.table);
  return {
    name,
    columns: cols.map((c) => {
      const affinity = affinityOf(c.type ?? "");
      return { name: c.name, affinity, blobable: affinity === "BLOB" };
    }),
    pk: cols
      .filter((c) => c.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((c) => c.name),
    parents,
  };
}

/** Why a table cannot be tracked, or undefined when it can. */
export function untrackableReason(info: TableInfo): string | undefined {
  if (info.pk.length === 0) return "it has no primary key";
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
