import type { SchemaElement } from "hyparquet";
import { quoteIdent } from "../database";
import { toHex } from "../hex";
import { type Affinity, affinityOf as affinity } from "../sql/affinity";
import { numberJson } from "../sql/bulk-insert";

export { COLUMNS_META, type ColumnDecl, JSON_TEXT_META } from "./parquet-meta";

import { COLUMNS_META, type ColumnDecl, JSON_TEXT_META } from "./parquet-meta";

type Kind = "INT64" | "DOUBLE" | "STRING" | "BYTE_ARRAY" | "JSON_TEXT";

/**
 * The SELECT list of rows to write: every column, then two kinds of extra values JavaScript cannot
 * see in a plain read:
 * - for each untyped (BLOB affinity) column, whether its value is a REAL: JavaScript cannot tell
 *   the REAL 1.0 from the INTEGER 1, and only an untyped column keeps that difference (other
 *   affinities convert on insert);
 * - for each column that can hold an INTEGER (INTEGER, NUMERIC, BLOB affinity), the value's digits
 *   when it is an integer beyond 2^53 (null otherwise): `sql.exec` hands integers over as numbers,
 *   which round those, and the digits let them be written to Parquet as exact INT64.
 */
export function rowSelect(columns: ColumnDecl[]): {
  list: string;
  flagAt: (number | undefined)[];
  bigAt: (number | undefined)[];
} {
  const flagAt: (number | undefined)[] = [];
  const bigAt: (number | undefined)[] = [];
  const extras: string[] = [];
  for (const c of columns) {
    const aff = affinity(c.type);
    const name = quoteIdent(c.name);
    if (aff === "BLOB") {
      flagAt.push(columns.length + extras.length);
      extras.push(`typeof(${name}) = 'real'`);
    } else flagAt.push(undefined);
    if (aff === "INTEGER" || aff === "NUMERIC" || aff === "BLOB") {
      bigAt.push(columns.length + extras.length);
      extras.push(
        `CASE WHEN typeof(${name}) = 'integer' AND ${name} NOT BETWEEN -${MAX_SAFE} AND ${MAX_SAFE} THEN CAST(${name} AS TEXT) END`,
      );
    } else bigAt.push(undefined);
  }
  return { list: [...columns.map((c) => quoteIdent(c.name)), ...extras].join(", "), flagAt, bigAt };
}

/**
 * A text value whose bytes are not UTF-8 (a lone surrogate bound from JavaScript, a blob cast to
 * text): JavaScript reads it with U+FFFD in their place, so its bytes travel instead, as hex.
 */
export class RawText {
  constructor(readonly hex: string) {}
}

/**
 * In rows laid out as `[rowid, ...rowSelect(columns)]` read from `table`, replace each text value
 * JavaScript could not decode by a RawText of its bytes. Only a string holding U+FFFD can be one,
 * so only those cost a lookup.
 */
export function keepRawTexts(sql: SqlStorage, table: string, columns: ColumnDecl[], rows: unknown[][]): void {
  for (const row of rows)
    columns.forEach((c, i) => {
      const v = row[1 + i];
      if (typeof v !== "string" || !v.includes("\ufffd")) return;
      const { hex } = sql
        .exec<{ hex: string }>(
          `SELECT hex(${quoteIdent(c.name)}) AS hex FROM ${quoteIdent(table)} WHERE rowid = ?`,
          row[0] as SqlStorageValue,
        )
        .one();
      if (hex.toLowerCase() !== toHex(new TextEncoder().encode(v))) row[1 + i] = new RawText(hex);
    });
}

/** The largest integer a JavaScript number holds exactly. */
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * The Parquet type of one column of a chunk (bigint: an integer beyond 2^53, see `rowSelect`).
 * SQLite is dynamically typed, so the values decide;
 * the declared type breaks ties (all NULL). A column whose values do not share one type is written
 * as JSON text per value (`1`, `1.0`, `"a"`, `{"$b": "00ff"}` for a blob, `{"$t": "ff61"}` for
 * text that is not UTF-8), which SQLite reads back
 * with each value's type.
 */
function kindOf(values: unknown[], reals: boolean[] | undefined, declared: string): Kind {
  let ints = 0;
  let floats = 0;
  let strings = 0;
  let blobs = 0;
  let bigs = 0;
  let raws = 0;
  const aff = affinity(declared);
  values.forEach((v, i) => {
    if (v === null || v === undefined) return;
    if (typeof v === "bigint") {
      ints++;
      bigs++;
    } else if (typeof v === "number") {
      if (isReal(v, reals?.[i], aff)) floats++;
      else ints++;
    } else if (v instanceof RawText) {
      strings++;
      raws++;
    } else if (typeof v === "string") strings++;
    else if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) blobs++;
    else floats++;
  });
  const kinds = [ints > 0, floats > 0, strings > 0, blobs > 0].filter(Boolean).length;
  if (kinds === 0) {
    if (aff === "INTEGER") return "INT64";
    if (aff === "REAL" || aff === "NUMERIC") return "DOUBLE";
    return aff === "BLOB" ? "BYTE_ARRAY" : "STRING";
  }
  // A Parquet string is UTF-8: raw text goes as `{"$t": hex}`.
  if (raws > 0) return "JSON_TEXT";
  if (blobs > 0) return kinds === 1 ? "BYTE_ARRAY" : "JSON_TEXT";
  if (strings > 0) return kinds === 1 ? "STRING" : "JSON_TEXT";
  // Other affinities turn integral REALs back into INTEGERs, but a double cannot hold a big integer.
  if (ints > 0 && floats > 0) return aff === "BLOB" || bigs > 0 ? "JSON_TEXT" : "DOUBLE";
  return floats > 0 ? "DOUBLE" : "INT64";
}

/** Is this number a REAL in SQLite? Known from `typeof` for untyped columns, else from the affinity. */
function isReal(v: number, flag: boolean | undefined, aff: Affinity): boolean {
  if (flag !== undefined) return flag;
  return aff === "REAL" || !Number.isSafeInteger(v);
}

function jsonText(v: unknown, real: boolean): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof RawText) return `{"$t":"${v.hex}"}`;
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return numberJson(v, real);
  if (v instanceof ArrayBuffer || ArrayBuffer.isView(v))
    return `{"$b":"${toHex(blobBytes(v) as Uint8Array)}"}`;
  return JSON.stringify(v);
}

function blobBytes(v: unknown): Uint8Array | unknown {
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return v;
}

/**
 * Rows (arrays laid out as `rowSelect` made them) → one compressed Parquet file with column
 * statistics, in row groups of `rowGroupRows` so readers can skip groups by their min/max.
 * hyparquet-writer is imported on first use only: actors that never archive never evaluate it.
 */
export async function encodeParquet(
  columns: ColumnDecl[],
  rows: unknown[][],
  rowGroupRows: number,
  meta: Record<string, string> = {},
): Promise<Uint8Array> {
  // The writer's own modules (no node:fs entry; not the index, whose every export a dynamic import
  // would keep, nor parquetWrite, which infers a schema and variant shredding we never need).
  const [{ ByteWriter }, { ParquetWriter }] = await Promise.all([
    import("hyparquet-writer/src/bytewriter.js"),
    import("hyparquet-writer/src/parquet-writer.js"),
  ]);
  const { flagAt, bigAt } = rowSelect(columns);
  const jsonColumns: string[] = [];
  const kinds: Kind[] = [];
  const columnData = columns.map((c, i) => {
    const big = bigAt[i];
    const data = rows.map((r) => (big !== undefined && r[big] != null ? BigInt(r[big] as string) : r[i]));
    const reals = flagAt[i] === undefined ? undefined : rows.map((r) => !!r[flagAt[i]!]);
    const kind = kindOf(data, reals, c.type);
    kinds.push(kind);
    const aff = affinity(c.type);
    if (kind === "JSON_TEXT") {
      jsonColumns.push(c.name);
      const text = data.map((v, r) => jsonText(v, typeof v === "number" && isReal(v, reals?.[r], aff)));
      return { name: c.name, data: text };
    }
    if (kind === "INT64")
      return {
        name: c.name,
        data: data.map((v) => (v == null || typeof v === "bigint" ? v : BigInt(v as number))),
      };
    return { name: c.name, data: kind === "BYTE_ARRAY" ? data.map(blobBytes) : data };
  });
  const writer = new ByteWriter();
  const parquet = new ParquetWriter({
    writer,
    schema: [
      { name: "root", num_children: columns.length },
      ...columns.map((c, i) => schemaElement(c.name, kinds[i])),
    ],
    codec: "SNAPPY",
    statistics: true,
    createdBy: "dosql-actors",
    kvMetadata: [
      { key: COLUMNS_META, value: JSON.stringify(columns) },
      ...(jsonColumns.length ? [{ key: JSON_TEXT_META, value: JSON.stringify(jsonColumns) }] : []),
      ...Object.entries(meta).map(([key, value]) => ({ key, value })),
    ],
  });
  parquet.write({ columnData: columnData as never, rowGroupSize: rowGroupRows });
  parquet.finish();
  return new Uint8Array(writer.getBuffer());
}

/** A nullable column of one kind, as hyparquet-writer's `schemaFromColumnData` builds it for that type. */
function schemaElement(name: string, kind: Kind): SchemaElement {
  if (kind === "STRING" || kind === "JSON_TEXT")
    return { name, type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" };
  return { name, type: kind, repetition_type: "OPTIONAL" };
}

/** SHA-256 of the bytes, first 12 hex digits: part of archive keys so a key names one content. */
export async function contentTag(bytes: Uint8Array): Promise<string> {
  // (The cast: the DOM lib, used by web/tsconfig.json which type-checks this file too, wants an ArrayBuffer view.)
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return toHex(digest.slice(0, 6));
}
