import { quoteIdent } from "../database";
import { ActorError } from "../errors";
import { hashHalves } from "../hash";
import type { Schema, TableShape } from "./schema";

/** The key of a table's checksum of its own keys; every other checksum is of one referencing column. */
export const KEY = "#key";

/**
 * What the guard compares of one table: its row count, a checksum of its key column values, and
 * for each referencing (foreign key) column a checksum of (key, value) pairs, so a reference that
 * moved from one row to another is noticed too. Checksums are sums of per-row hashes: the order
 * of rows does not matter. Values are compared by their bytes (`hex`), so a rebuild that changes
 * a column's declared type (text '7' to integer 7) is no change.
 */
export interface Fingerprint {
  rows: number;
  /** Primary key columns (empty: none declared, then the key is nothing and only rows count). */
  pk: string[];
  sums: Map<string, string>;
}

const cell = (column: string) => `ifnull(hex(${quoteIdent(column)}), 'N')`;

export function fingerprint(sql: SqlStorage, shape: TableShape): Fingerprint {
  const refs = [...new Set(shape.fks.flatMap((fk) => fk.from))];
  const key = shape.pk.length ? shape.pk.map(cell).join(" || ',' || ") : "''";
  const select = [`${key} AS k`, ...refs.map((c, i) => `${cell(c)} AS c${i}`)].join(", ");
  const acc = [KEY, ...refs].map(() => [0, 0]);
  let rows = 0;
  for (const row of sql.exec(`SELECT ${select} FROM ${quoteIdent(shape.name)}`)) {
    rows++;
    const k = String(row.k);
    add(acc[0], k);
    for (let i = 0; i < refs.length; i++) add(acc[i + 1], `${k}|${row[`c${i}`]}`);
  }
  const sums = new Map<string, string>();
  [KEY, ...refs].forEach((name, i) => {
    sums.set(name, `${acc[i][0].toString(16)}:${acc[i][1].toString(16)}`);
  });
  return { rows, pk: shape.pk, sums };
}

/** Add the two 32-bit halves of a string's hash to an accumulator (sums mod 2^32). */
function add(acc: number[], text: string): void {
  const [h1, h2] = hashHalves(text);
  acc[0] = (acc[0] + (h1 >>> 0)) >>> 0;
  acc[1] = (acc[1] + (h2 >>> 0)) >>> 0;
}

export interface Loss {
  table: string;
  before: number;
  after: number;
}

/**
 * Compare every table with what the migration left in it itself (`expected`: its state before the
 * migration, or after the migration's last own write to it). Throws MIGRATION_WOULD_LOSE_ROWS
 * when rows are missing, MIGRATION_WOULD_BREAK_REFERENCES (naming table and column) when a key or
 * a reference changed.
 */
export function compareFingerprints(
  tag: string,
  sql: SqlStorage,
  schema: Schema,
  expected: ReadonlyMap<string, Fingerprint>,
): void {
  const losses: Loss[] = [];
  const broken: { table: string; column: string }[] = [];
  for (const [table, want] of expected) {
    const shape = schema.get(table);
    if (!shape) continue;
    const got = fingerprint(sql, shape);
    if (got.rows < want.rows) {
      losses.push({ table, before: want.rows, after: got.rows });
      continue;
    }
    // Rows added by something the migration set off (a trigger of its own writes, say an audit log)
    // change every checksum; such a table's references are left to foreign_key_check.
    if (got.rows > want.rows) continue;
    const sameKey = got.pk.join("\u0000") === want.pk.join("\u0000");
    for (const [column, sum] of want.sums) {
      if (column === KEY && !sameKey) continue;
      const now = got.sums.get(column);
      if (now !== undefined && now !== sum)
        broken.push({ table, column: column === KEY ? want.pk.join(", ") : column });
    }
  }
  if (losses.length > 0) {
    const [first] = losses;
    throw new ActorError(
      "MIGRATION_WOULD_LOSE_ROWS",
      `migration ${tag} would lose ${first.before - first.after} of ${first.before} rows of table ${first.table}` +
        (losses.length > 1 ? ` (and rows of ${losses.length - 1} more tables)` : ""),
      { migration: tag, table: first.table, tables: losses.map((l) => l.table), losses },
    );
  }
  if (broken.length > 0) throw breakError(tag, broken[0].table, broken[0].column, "changed", broken.length);
}

/** `PRAGMA foreign_key_check` must be clean before the migration commits. */
export function checkForeignKeys(tag: string, sql: SqlStorage, schema: Schema): void {
  const bad = sql
    .exec<{ table: string; parent: string; fkid: number }>(
      'SELECT "table", parent, fkid FROM pragma_foreign_key_check LIMIT 1',
    )
    .toArray()[0];
  if (!bad) return;
  const fk = schema.get(bad.table)?.fks.find((f) => f.id === Number(bad.fkid));
  throw breakError(tag, bad.table, fk?.from.join(", ") ?? "?", `references missing rows of ${bad.parent}`, 1);
}

function breakError(tag: string, table: string, column: string, what: string, count: number): ActorError {
  return new ActorError(
    "MIGRATION_WOULD_BREAK_REFERENCES",
    `migration ${tag} would leave column ${column} of table ${table} ${what === "changed" ? "changed by a rebuild, not by the migration's own writes" : what}` +
      (count > 1 ? ` (and ${count - 1} more columns)` : ""),
    { migration: tag, table, column },
  );
}
