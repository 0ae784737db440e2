import { listTables } from "../sql/tables";

/** The tables of the database as SQLite itself describes them, read before and after statements. */
export interface ForeignKey {
  /** SQLite's number of the key within its table (as `pragma_foreign_key_check` reports it). */
  id: number;
  /** The referenced table. */
  parent: string;
  /** Referencing columns, in key order. */
  from: string[];
  onDelete: string;
  onUpdate: string;
}

export interface TableShape {
  name: string;
  /** The table's b-tree: unchanged by `ALTER TABLE … RENAME`, so it follows a table across renames. */
  rootpage: number;
  withoutRowid: boolean;
  /** Ordinary (not generated) columns, in order. */
  columns: string[];
  /** Every column with its position, generated ones included (a rename keeps the position). */
  all: { name: string; cid: number; dflt: string | null }[];
  /** Primary key columns in key order (empty: none declared). */
  pk: string[];
  fks: ForeignKey[];
}

export type Schema = Map<string, TableShape>;

/** Tables the runner never guards or holds: SQLite's, Cloudflare's, the framework's own. */
export const INTERNAL_TABLE = /^(sqlite_|_cf_|_dosql_)/;

export function readSchema(sql: SqlStorage): Schema {
  const schema: Schema = new Map();
  // sqlite_master through listTables, never pragma_table_list (DO SQLite refuses its `_cf_` rows).
  const roots = new Map(
    sql
      .exec<{ name: string; rootpage: number }>(
        "SELECT name, rootpage FROM sqlite_master WHERE type = 'table'",
      )
      .toArray()
      .map((r) => [r.name, Number(r.rootpage)]),
  );
  for (const t of listTables(sql)) {
    if (INTERNAL_TABLE.test(t.name) || t.virtual || t.shadow) continue;
    const cols = sql
      .exec<{ name: string; cid: number; pk: number; hidden: number; dflt_value: string | null }>(
        "SELECT name, cid, pk, hidden, dflt_value FROM pragma_table_xinfo(?)",
        t.name,
      )
      .toArray();
    const fkRows = sql
      .exec<{ id: number; seq: number; table: string; from: string; on_delete: string; on_update: string }>(
        'SELECT id, seq, "table", "from", on_delete, on_update FROM pragma_foreign_key_list(?) ORDER BY id, seq',
        t.name,
      )
      .toArray();
    const fks = new Map<number, ForeignKey>();
    for (const r of fkRows) {
      const fk = fks.get(r.id) ?? {
        id: r.id,
        parent: r.table,
        from: [],
        onDelete: r.on_delete.toUpperCase(),
        onUpdate: r.on_update.toUpperCase(),
      };
      fk.from.push(r.from);
      fks.set(r.id, fk);
    }
    schema.set(t.name, {
      name: t.name,
      rootpage: roots.get(t.name) ?? 0,
      withoutRowid: !t.rowid,
      columns: cols.filter((c) => c.hidden === 0).map((c) => c.name),
      all: cols.map((c) => ({ name: c.name, cid: c.cid, dflt: c.dflt_value })),
      pk: cols
        .filter((c) => c.pk > 0)
        .sort((a, b) => a.pk - b.pk)
        .map((c) => c.name),
      fks: [...fks.values()],
    });
  }
  return schema;
}

/**
 * Tables whose foreign keys reach `parent`, directly or through other tables (the parent's own
 * self-reference aside: its rows go with it), in breadth-first order: nearest first.
 */
export function referencingTables(schema: Schema, parent: string): string[] {
  const order: string[] = [];
  const queue = [parent];
  while (queue.length) {
    const next = queue.shift()!;
    for (const table of schema.values()) {
      if (table.name === parent || order.includes(table.name)) continue;
      if (table.fks.some((fk) => fk.parent === next)) {
        order.push(table.name);
        queue.push(table.name);
      }
    }
  }
  return order;
}

const PASSIVE = new Set(["NO ACTION", "RESTRICT"]);

/** Tables that an own write to `table` changes through ON DELETE/UPDATE actions, transitively. */
export function actionReach(schema: Schema, table: string): string[] {
  const reach: string[] = [];
  const queue = [table];
  while (queue.length) {
    const next = queue.shift()!;
    for (const t of schema.values())
      if (
        !reach.includes(t.name) &&
        t.fks.some((fk) => fk.parent === next && !(PASSIVE.has(fk.onDelete) && PASSIVE.has(fk.onUpdate)))
      ) {
        reach.push(t.name);
        queue.push(t.name);
      }
  }
  return reach;
}
