import type { FileMetaData, ParquetQueryFilter, ParquetScan, SchemaElement } from "hyparquet";
import { ActorError } from "../errors";
import { type Affinity, affinityOf } from "../sql/affinity";
import { COLLATIONS, type Collation } from "../sql/collations";
import type { ColumnFilter } from "../sql/sources";
import { COLUMNS_META, type ColumnDecl, JSON_TEXT_META } from "./parquet-meta";
import type { AsyncBuffer } from "./r2-store";

/**
 * Load the two hyparquet modules used, on first use: deep imports (no node:fs entry), and only
 * what a scan needs (a dynamic import of the package index would bundle every export).
 */
const hyparquet = async () => {
  const [{ parquetMetadataAsync }, { parquetScan }] = await Promise.all([
    import("hyparquet/src/metadata.js"),
    import("hyparquet/src/scan.js"),
  ]);
  return { parquetMetadataAsync, parquetScan };
};

/** One file after pruning: which of its row ranges can hold matching rows. */
export interface FileScan {
  columns: ReadColumn[];
  rowGroups: number;
  rowGroupsKept: number;
  /** Rows in the kept row groups. */
  rows: number;
  /** Largest uncompressed row group kept, in bytes: what reading one group costs in memory. */
  largestGroupBytes: number;
  scan: ParquetScan;
}

/** A column to read, the SQLite type and collation it gets in a scratch table, and how its values travel. */
export interface ReadColumn extends ColumnDecl {
  collation: string;
  blob: boolean;
  /** Floating point in Parquet: integral values must stay REAL. */
  real: boolean;
  /** Strings that are SQL values written as JSON text (a mixed-type column). */
  json: boolean;
}

const OPERATOR = { "=": "$eq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte" } as const;

/**
 * Prune a file's row groups with the query's filters against the groups' min/max statistics,
 * comparing values in the encoding the file holds, and only where that comparison is SQLite's:
 * - a number against a plain numeric column;
 * - a string against a plain string column of BINARY collation and TEXT or BLOB affinity (the
 *   others turn a string that spells a number into that number): equality always; a range only
 *   for an ASCII value (JavaScript compares UTF-16 units, SQLite bytes of UTF-8: the same order
 *   against ASCII, not between other characters);
 * - a string equality against a mixed-type (JSON text) column of the same kind, as its JSON
 *   text (a string is equal to exactly one JSON encoding). Numbers are not: 5 equals 5.0, and
 *   JSON text sorts in no SQLite order.
 * Collations other than BINARY make equal what the statistics order apart, so they prune nothing.
 * Anything else is left to SQLite, which evaluates the whole WHERE on what is loaded.
 */
export async function scanFile(file: AsyncBuffer | ArrayBuffer, filters: ColumnFilter[]): Promise<FileScan> {
  const { parquetMetadataAsync, parquetScan } = await hyparquet();
  const metadata = await parquetMetadataAsync(file);
  const columns = readColumns(metadata);
  const elements = topLevel(metadata);
  const conditions: ParquetQueryFilter[] = [];
  for (const f of filters) {
    const element = elements.find((e) => e.name.toLowerCase() === f.column.toLowerCase());
    const column = columns.find((c) => c.name === element?.name);
    if (!element || !column || element.num_children) continue;
    const value = prunable(f, element, column);
    if (value !== undefined) conditions.push({ [element.name]: { [OPERATOR[f.op]]: value } });
  }
  const scan = await parquetScan({
    file,
    metadata,
    utf8: false,
    pruningFilter: conditions.length ? { $and: conditions } : undefined,
  });
  let rows = 0;
  let largestGroupBytes = 0;
  const kept = new Set<number>();
  let start = 0;
  const groupStarts = metadata.row_groups.map((g) => {
    const s = start;
    start += Number(g.num_rows);
    return s;
  });
  for (const range of scan.ranges) {
    rows += range.rowEnd - range.rowStart;
    const g = groupStarts.findLastIndex((s) => s <= range.rowStart);
    if (!kept.has(g)) {
      kept.add(g);
      largestGroupBytes = Math.max(largestGroupBytes, Number(metadata.row_groups[g].total_byte_size));
    }
  }
  return {
    columns,
    rowGroups: metadata.row_groups.length,
    rowGroupsKept: kept.size,
    rows,
    largestGroupBytes,
    scan,
  };
}

/** One kept range, column by column (row r of column c is `columns[c][r]`). */
export async function readRange(
  fileScan: FileScan,
  rowStart: number,
  rowEnd: number,
): Promise<ArrayLike<unknown>[]> {
  const data: ArrayLike<unknown>[] = [];
  for (const c of fileScan.columns)
    data.push(await fileScan.scan.readColumn({ column: c.name, rowStart, rowEnd }));
  return data;
}

/** The filter's value as the file's statistics hold it, or undefined when it cannot prune soundly. */
function prunable(f: ColumnFilter, e: SchemaElement, c: ReadColumn): number | string | bigint | undefined {
  if (typeof f.value === "number") return !c.json && isNumeric(e) ? statValue(e, f.value) : undefined;
  // A column of INTEGER, REAL or NUMERIC affinity compares a string as the number it spells
  // (`q > '5'` is `q > 5`, which every text value passes), not as the string statistics hold.
  if (c.collation !== "BINARY" || !isString(e) || NUMERIC_AFFINITIES.includes(affinityOf(c.type)))
    return undefined;
  // An ill-formed string (a lone surrogate) is bound as bytes only a raw text holds (`{"$t": hex}`).
  if (c.json) return f.op === "=" && f.value.isWellFormed() ? JSON.stringify(f.value) : undefined;
  return f.op === "=" || ASCII.test(f.value) ? f.value : undefined;
}
const NUMERIC_AFFINITIES: readonly Affinity[] = ["INTEGER", "REAL", "NUMERIC"];
// biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range on purpose
const ASCII = /^[\u0000-\u007f]*$/;

/** INT64 statistics decode as bigint, and hyparquet only sees bigint 5n and number 5 as equal if both are bigint. */
function statValue(e: SchemaElement, value: number | string): number | string | bigint {
  return e.type === "INT64" && typeof value === "number" && Number.isSafeInteger(value)
    ? BigInt(value)
    : value;
}

function topLevel(metadata: FileMetaData): SchemaElement[] {
  const out: SchemaElement[] = [];
  const schema = metadata.schema;
  // Walk the flattened tree: keep direct children of the root, skip their descendants.
  let i = 1;
  const skip = (at: number): number => {
    let next = at + 1;
    for (let k = 0; k < (schema[at].num_children ?? 0); k++) next = skip(next);
    return next;
  };
  while (i < schema.length) {
    out.push(schema[i]);
    i = skip(i);
  }
  return out;
}

/** Columns with the SQLite types they had when archived (from our metadata), else from Parquet types. */
function readColumns(metadata: FileMetaData): ReadColumn[] {
  const declared = new Map<string, ColumnDecl>();
  try {
    for (const c of JSON.parse(meta(metadata, COLUMNS_META) ?? "[]") as ColumnDecl[]) {
      if (typeof c?.name !== "string" || typeof c.type !== "string") throw new Error("not a column");
      if (c.collation !== undefined && !COLLATIONS.includes(String(c.collation).toUpperCase() as Collation))
        throw new Error("unknown collation");
      declared.set(c.name, c);
    }
  } catch {
    throw new ActorError("ARCHIVE_FILE_CORRUPT", "archived file has unreadable column metadata");
  }
  const jsonText = new Set<string>(JSON.parse(meta(metadata, JSON_TEXT_META) ?? "[]"));
  return topLevel(metadata).map((e) => ({
    name: e.name,
    type: declared.get(e.name)?.type ?? sqliteType(e),
    collation: (declared.get(e.name)?.collation ?? "BINARY").toUpperCase(),
    blob: !e.num_children && !isText(e) && (e.type === "BYTE_ARRAY" || e.type === "FIXED_LEN_BYTE_ARRAY"),
    real: !e.num_children && (e.type === "DOUBLE" || e.type === "FLOAT"),
    json: jsonText.has(e.name) && isString(e),
  }));
}

function meta(metadata: FileMetaData, key: string): string | undefined {
  return metadata.key_value_metadata?.find((kv) => kv.key === key)?.value;
}

function isNumeric(e: SchemaElement): boolean {
  const plain = !e.converted_type && !e.logical_type;
  return (e.type === "INT32" || e.type === "INT64" || e.type === "FLOAT" || e.type === "DOUBLE") && plain;
}

function isString(e: SchemaElement): boolean {
  return e.type === "BYTE_ARRAY" && (e.converted_type === "UTF8" || e.logical_type?.type === "STRING");
}

/** Text when read: strings and JSON documents. */
function isText(e: SchemaElement): boolean {
  return (
    e.type === "BYTE_ARRAY" &&
    (e.converted_type === "UTF8" || e.logical_type?.type === "STRING" || e.converted_type === "JSON")
  );
}

function sqliteType(e: SchemaElement): string {
  if (e.num_children) return "TEXT";
  if (e.type === "INT32" || e.type === "INT64" || e.type === "BOOLEAN") return "INTEGER";
  if (e.type === "FLOAT" || e.type === "DOUBLE") return "REAL";
  if (isText(e)) return "TEXT";
  return "BLOB";
}
