// What archived Parquet files say about their columns: shared by the writer and the reader, in a
// file of its own so a reader (the sources part) does not bundle the writer (hyparquet-writer).

/** A column as SQLite declares it. */
export interface ColumnDecl {
  name: string;
  type: string;
  /** The declared collation; absent (files written before it was kept) means BINARY. */
  collation?: string;
}

/**
 * File metadata: the source table's declared column types and collations (JSON of ColumnDecl[]),
 * so a cold query's scratch table compares, groups and sorts exactly like the hot table.
 */
export const COLUMNS_META = "dosql.columns";
/**
 * File metadata: columns whose strings are SQL values written as JSON text (mixed-type columns):
 * `1`, `1.0`, `"a"`, and a blob as `{"$b": "<hex>"}` (as in the WAL's images).
 */
export const JSON_TEXT_META = "dosql.jsonText";
