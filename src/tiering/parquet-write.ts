import { ActorError } from "../errors";

/** A column as SQLite declares it. */
export interface ColumnDecl {
  name: string;
  type: string;
}

/** Key of the file metadata entry that carries the source table's declared column types. */
export const COLUMNS_META = "dosql.columns";

type Kind = "INT64" | "DOUBLE" | "STRING" | "BYTE_ARRAY" | "JSON";

/** SQLite's column affinity rules (https://sqlite.org/datatype3.html §3.1). */
export function affinity(declared: string): "INTEGER" | "TEXT" | "BLOB" | "REAL" | "NUMERIC" {
  const t = declared.toUpperCase();
  if (t.includes("INT")) return "INTEGER";
  if (t.includes("CHAR") || t.includes("CLOB") || t.includes("TEXT")) return "TEXT";
  if (t.includes("BLOB") || t === "") return "BLOB";
  if (t.includes("REAL") || t.includes("FLOA") || t.includes("DOUB")) return "REAL";
  return "NUMERIC";
}

/**
 * The Parquet type of one column of a chunk. SQLite is dynamically typed, so the values decide;
 * the declared type only breaks ties (all NULL, integral REALs). A column mixing numbers and text
 * is stored as JSON values, which read back with their types; blobs mixed with other types are refused.
 */
function kindOf(values: unknown[], declared: string, column: string): Kind {
  let ints = 0;
  let floats = 0;
  let strings = 0;
  let blobs = 0;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    if (typeof v === "number") {
      if (Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER) ints++;
      else floats++;
    } else if (typeof v === "string") strings++;
    else if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) blobs++;
    else floats++;
  }
  const aff = affinity(declared);
  const kinds = [ints + floats > 0, strings > 0, blobs > 0].filter(Boolean).length;
  if (kinds === 0) {
    if (aff === "INTEGER") return "INT64";
    if (aff === "REAL" || aff === "NUMERIC") return "DOUBLE";
    return aff === "BLOB" ? "BYTE_ARRAY" : "STRING";
  }
  if (kinds > 1) {
    if (blobs > 0)
      throw new ActorError(
        "ARCHIVE_UNSUPPORTED_VALUE",
        `column ${column} mixes blobs with other types; Parquet cannot hold it`,
        { column },
      );
    return "JSON";
  }
  if (strings > 0) return "STRING";
  if (blobs > 0) return "BYTE_ARRAY";
  // Untyped columns keep each value's type: integers must not come back as REALs.
  if (ints > 0 && floats > 0 && aff === "BLOB") return "JSON";
  return floats > 0 || aff === "REAL" ? "DOUBLE" : "INT64";
}

function blobBytes(v: unknown): Uint8Array | unknown {
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return v;
}

export interface ParquetChunk {
  bytes: Uint8Array;
  rows: number;
}

/**
 * Rows (arrays in `columns` order) → one compressed Parquet file with column statistics, in row
 * groups of `rowGroupRows` so readers can skip groups by their min/max. hyparquet-writer is
 * imported on first use only: actors that never archive do not pay for evaluating it.
 */
export async function encodeParquet(
  columns: ColumnDecl[],
  rows: unknown[][],
  rowGroupRows: number,
  meta: Record<string, string> = {},
): Promise<ParquetChunk> {
  // The package's "browser" entry has no node:fs import; name it so every bundler picks it.
  const { parquetWriteBuffer } = await import("hyparquet-writer/src/index.js");
  const columnData = columns.map((c, i) => {
    const data = rows.map((r) => r[i]);
    const type = kindOf(data, c.type, c.name);
    const values =
      type === "BYTE_ARRAY"
        ? data.map(blobBytes)
        : type === "INT64"
          ? data.map((v) => (v == null ? v : BigInt(v as number)))
          : data;
    return { name: c.name, type, data: values };
  });
  const buffer = parquetWriteBuffer({
    columnData: columnData as never,
    codec: "SNAPPY",
    statistics: true,
    rowGroupSize: rowGroupRows,
    createdBy: "dosql-actors",
    kvMetadata: [
      { key: COLUMNS_META, value: JSON.stringify(columns) },
      ...Object.entries(meta).map(([key, value]) => ({ key, value })),
    ],
  });
  return { bytes: new Uint8Array(buffer), rows: rows.length };
}

/** SHA-256 of the bytes, first 12 hex digits: part of archive keys so a key names one content. */
export async function contentTag(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest.slice(0, 6)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
