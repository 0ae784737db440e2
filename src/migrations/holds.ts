import { quoteIdent } from "../database";
import { referencingTables, type Schema, type TableShape } from "./schema";

export const HOLD_PREFIX = "_dosql_hold_";
const ROWID = "_dosql_rowid";

/** Rows of one table, held aside in a plain table while a table it references is rebuilt. */
export interface Hold {
  /** The held table's current name (it follows renames: `__new_x` becomes `x`). */
  child: string;
  table: string;
  /** The rowids are kept too (a rowid table's rows keep their identity). */
  rowid: boolean;
}

/**
 * Before `parent` is dropped: copy the rows of every table that references it, directly or through
 * others, into hold tables, then empty those tables. The drop then finds no referencing row, so no
 * ON DELETE action runs (DO SQLite cannot switch foreign keys off) and no deferred violation is
 * counted. Includes a rebuild's `__new_parent`, whose keys name the parent it will replace.
 */
export function holdReferencing(sql: SqlStorage, schema: Schema, parent: string, next: () => number): Hold[] {
  const holds: Hold[] = [];
  for (const child of referencingTables(schema, parent)) {
    const shape = schema.get(child)!;
    const table = `${HOLD_PREFIX}${next()}`;
    const rowid = !shape.withoutRowid;
    const cols = shape.columns.map(quoteIdent).join(", ");
    sql.exec(
      `CREATE TABLE ${table} AS SELECT ${rowid ? `rowid AS ${ROWID}, ` : ""}${cols} FROM ${quoteIdent(child)}`,
    );
    holds.push({ child, table, rowid });
  }
  // Farthest first; with foreign keys deferred the order only matters to RESTRICT keys.
  for (const hold of [...holds].reverse()) sql.exec(`DELETE FROM ${quoteIdent(hold.child)}`);
  return holds;
}

/**
 * Put back the holds whose table exists again with every table it references, none of those still
 * held (the rebuild's rename happened); returns those still waiting. Columns are matched by name.
 */
export function restoreHolds(sql: SqlStorage, schema: Schema, holds: Hold[]): Hold[] {
  let waiting = holds;
  for (let progress = true; progress; ) {
    progress = false;
    const held = new Set(waiting.map((h) => h.child));
    for (const hold of waiting) {
      const shape = schema.get(hold.child);
      const ready = shape?.fks.every(
        (fk) => schema.has(fk.parent) && (fk.parent === hold.child || !held.has(fk.parent)),
      );
      if (!shape || !ready) continue;
      putBack(sql, shape, hold);
      waiting = waiting.filter((h) => h !== hold);
      progress = true;
      break;
    }
  }
  return waiting;
}

function putBack(sql: SqlStorage, shape: TableShape, hold: Hold): void {
  const current = new Set(shape.columns);
  const held = sql
    .exec<{ name: string }>("SELECT name FROM pragma_table_info(?)", hold.table)
    .toArray()
    .map((r) => r.name)
    .filter((c) => c !== ROWID && current.has(c))
    .map(quoteIdent);
  const keepRowid = hold.rowid && !shape.withoutRowid;
  const cols = keepRowid ? ["rowid", ...held] : held;
  const from = keepRowid ? [ROWID, ...held] : held;
  sql.exec(
    `INSERT INTO ${quoteIdent(hold.child)} (${cols.join(", ")}) SELECT ${from.join(", ")} FROM ${hold.table}`,
  );
  sql.exec(`DROP TABLE ${hold.table}`);
}

/** Holds never put back (a table they reference, or they themselves, dropped for good): their rows are lost. */
export function discardHolds(sql: SqlStorage, holds: Hold[]): void {
  for (const hold of holds) sql.exec(`DROP TABLE ${hold.table}`);
}
