import { quoteIdent } from "../database";
import { fromHex } from "../hex";
import type { ColumnInfo, TableInfo } from "./tables";

/**
 * SQL that turns rows into JSON images and back, used by the triggers (capture) and by every reader.
 * Values stay exact: images are built and read in SQL (json_object / json_extract keep integers,
 * reals and text apart). Blobs become {"$b": hex}: SQLite's json functions would read a blob as JSONB.
 */
export const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** JSON path of a column (names with a double quote are never tracked). */
const path = (name: string, suffix = ""): string => sqlString(`$."${name}"${suffix}`);

const ref = (prefix: string, name: string): string =>
  prefix ? `${prefix}.${quoteIdent(name)}` : quoteIdent(name);

export function encodeValue(prefix: string, col: ColumnInfo): string {
  const r = ref(prefix, col.name);
  return col.blobable ? `CASE WHEN typeof(${r}) = 'blob' THEN json_object('$b', hex(${r})) ELSE ${r} END` : r;
}

/** JSON object of every column (json_object takes at most 63 pairs; wider rows are concatenated). */
export function rowImage(prefix: string, columns: readonly ColumnInfo[]): string {
  if (columns.length <= 63)
    return `json_object(${columns.map((c) => `${sqlString(c.name)}, ${encodeValue(prefix, c)}`).join(", ")})`;
  const parts = columns.map(
    (c) => `${sqlString(`${JSON.stringify(c.name)}:`)} || json_quote(${encodeValue(prefix, c)})`,
  );
  return `('{' || ${parts.join(" || ',' || ")} || '}')`;
}

/** JSON object of the columns whose value differs between OLD and NEW (byte for byte, whatever the column's collation), with NEW's values. */
export function changedImage(columns: readonly ColumnInfo[]): string {
  const parts = columns.map(
    (c) =>
      `CASE WHEN ${ref("OLD", c.name)} IS NOT ${ref("NEW", c.name)} COLLATE BINARY${c.affinity === "BLOB" ? ` OR typeof(${ref("OLD", c.name)}) <> typeof(${ref("NEW", c.name)})` : ""} THEN ${sqlString(`,${JSON.stringify(c.name)}:`)} || json_quote(${encodeValue("NEW", c)}) ELSE '' END`,
  );
  return `('{' || substr(${parts.join(" || ")}, 2) || '}')`;
}

/** The key as the WAL stores it: the value itself for one column, a JSON array for several. */
export function keyExpr(prefix: string, table: TableInfo): string {
  if (table.pk.length === 1) return ref(prefix, table.pk[0]);
  const byName = new Map(table.columns.map((c) => [c.name, c]));
  return `json_array(${table.pk.map((name) => encodeValue(prefix, byName.get(name)!)).join(", ")})`;
}

/** One column read back from a JSON image held in SQL expression `image`. */
export function decodeValue(image: string, col: ColumnInfo): string {
  const plain = `json_extract(${image}, ${path(col.name)})`;
  if (!col.blobable) return plain;
  return `CASE WHEN json_type(${image}, ${path(col.name)}) = 'object' THEN unhex(json_extract(${image}, ${path(col.name, '."$b"')})) ELSE ${plain} END`;
}

/**
 * A WAL key as JavaScript holds it exactly. The WAL keeps a one-column key as the value itself, and
 * `sql.exec` hands an integer beyond 2^53 over as a number that rounds it (to a neighbouring key):
 * readers select `walKeyColumns()` and take `walKey(row)`, a bigint for those.
 */
export type WalKey = SqlStorageValue | bigint;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** `pk, <digits of pk when it is an integer beyond 2^53, else NULL> AS pk_digits`. */
export function walKeyColumns(column = "pk"): string {
  return `${column} AS pk, CASE WHEN typeof(${column}) = 'integer' AND ${column} NOT BETWEEN -${MAX_SAFE} AND ${MAX_SAFE} THEN CAST(${column} AS TEXT) END AS pk_digits`;
}

export function walKey(row: { pk: SqlStorageValue; pk_digits?: string | null }): WalKey {
  return typeof row.pk_digits === "string" ? BigInt(row.pk_digits) : row.pk;
}

/**
 * `"a" = ? AND "b" = ?`-style match of a WAL key; returns the SQL and how to bind one key value.
 * A bigint key (see `WalKey`) is bound as its digits and cast back to the INTEGER it was.
 */
export function keyMatch(
  table: TableInfo,
  alias = "",
): { sql: string; bind: (key: WalKey) => SqlStorageValue[] } {
  if (table.pk.length === 1)
    return {
      sql: `${ref(alias, table.pk[0])} = CASE WHEN ? THEN CAST(? AS INTEGER) ELSE ? END`,
      bind: (key) => (typeof key === "bigint" ? [1, key.toString(), null] : [0, null, key]),
    };
  const byName = new Map(table.columns.map((c) => [c.name, c]));
  const sql = table.pk
    .map((name, i) => {
      const col = byName.get(name)!;
      const at = `json_extract(?, '$[${i}]')`;
      const value = col.blobable
        ? `CASE WHEN json_type(?, '$[${i}]') = 'object' THEN unhex(json_extract(?, '$[${i}]."$b"')) ELSE ${at} END`
        : at;
      return `${ref(alias, name)} = ${value}`;
    })
    .join(" AND ");
  const perKey = table.pk.map((name) => (byName.get(name)!.blobable ? 3 : 1)).reduce((a, b) => a + b, 0);
  return { sql, bind: (key) => Array.from({ length: perKey }, () => key as SqlStorageValue) };
}

/** A bound value converted the way the column's affinity converts stored values. */
function withAffinity(value: string, col: ColumnInfo): string {
  switch (col.affinity) {
    case "INTEGER":
    case "NUMERIC":
      return `CASE WHEN typeof(${value}) = 'real' AND ${value} = CAST(${value} AS INTEGER) THEN CAST(${value} AS INTEGER) WHEN typeof(${value}) = 'text' AND CAST(${value} AS NUMERIC) || '' = ${value} THEN CAST(${value} AS NUMERIC) ELSE ${value} END`;
    case "REAL":
      return `CASE WHEN typeof(${value}) = 'integer' THEN CAST(${value} AS REAL) ELSE ${value} END`;
    case "TEXT":
      return `CASE WHEN typeof(${value}) IN ('integer', 'real') THEN CAST(${value} AS TEXT) ELSE ${value} END`;
    default:
      return value;
  }
}

/** A statement computing the WAL key from bound key column values (one `?` per key column, in order). */
export function keyFromParams(table: TableInfo): string {
  const byName = new Map(table.columns.map((c) => [c.name, c]));
  const cols = table.pk.map(
    (name, i) => `${withAffinity(`v.c${i}`, byName.get(name)!)} AS ${quoteIdent(name)}`,
  );
  const values = table.pk.map((_, i) => `? AS c${i}`).join(", ");
  return `SELECT ${keyExpr("k", table)} AS key FROM (SELECT ${cols.join(", ")} FROM (SELECT ${values}) AS v) AS k`;
}

/** A column value as history returns it: blobs as bytes. */
export type RowValue = string | number | null | Uint8Array;
/** A row (or a key) as history returns it. */
export type Row = Record<string, RowValue>;

/** Two JSON row images hold the same values (whatever their key order). */
export function sameRow(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return a === b;
  if (a === b) return true;
  const x = JSON.parse(a) as Record<string, unknown>;
  const y = JSON.parse(b) as Record<string, unknown>;
  const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
  for (const k of keys) if (JSON.stringify(x[k] ?? null) !== JSON.stringify(y[k] ?? null)) return false;
  return true;
}

/** A JSON image in JS, with encoded blobs turned back into bytes. */
export function parseImage(text: SqlStorageValue | undefined): Row | null {
  if (typeof text !== "string") return null;
  const parsed = JSON.parse(text) as Record<string, unknown>;
  const row: Row = {};
  for (const [k, v] of Object.entries(parsed)) row[k] = decodeJsonValue(v);
  return row;
}

function decodeJsonValue(v: unknown): RowValue {
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const hex = (v as { $b?: unknown }).$b;
    if (typeof hex === "string" && Object.keys(v).length === 1) return fromHex(hex);
  }
  return v as RowValue;
}

/**
 * A WAL key (raw value or JSON array) as `{ column: value }`. Like every value history hands to
 * JavaScript, an integer beyond 2^53 is a number there (rounded): this is for reading, not for
 * finding the row again (that takes the `WalKey`).
 */
export function keyObject(table: TableInfo, key: WalKey): Row {
  if (typeof key === "bigint") return { [table.pk[0]]: Number(key) };
  if (table.pk.length === 1) return { [table.pk[0]]: key instanceof ArrayBuffer ? new Uint8Array(key) : key };
  const parts = JSON.parse(String(key)) as unknown[];
  return Object.fromEntries(table.pk.map((name, i) => [name, decodeJsonValue(parts[i])]));
}
