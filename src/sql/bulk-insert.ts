import { quoteIdent } from "../database";
import { toHex } from "../hex";

/**
 * Fast, exact bulk inserts. DO SQLite allows 100 bound parameters per statement, so rows travel
 * as one JSON array per statement (`json_each`), about 2× faster than multi-row VALUES here.
 * JSON keeps every SQLite value exactly: integers as digits (bigint included), doubles in
 * round-trip form (SQLite parses them back bit-exact: checked in workerd), text escaped, NULL as
 * null; blobs go as hex and are decoded with `unhex`.
 */
export class BulkInserter {
  readonly #sql: SqlStorage;
  readonly #statement: string;
  readonly #kinds: ValueKind[];
  #parts: string[] = [];
  #bytes = 0;
  rows = 0;

  /** Flush when the JSON reaches this many characters (DO caps a bound string at 2 MB). */
  static readonly BATCH_CHARS = 1_000_000;

  constructor(
    sql: SqlStorage,
    table: string,
    columns: { name: string; blob?: boolean; real?: boolean; json?: boolean }[],
  ) {
    this.#sql = sql;
    this.#kinds = columns.map((c) => (c.blob ? "blob" : c.real ? "real" : c.json ? "json" : "any"));
    const values = this.#kinds.map((kind, i) => valueExpr(i, kind)).join(", ");
    this.#statement = `INSERT INTO ${quoteIdent(table)} (${columns.map((c) => quoteIdent(c.name)).join(", ")}) SELECT ${values} FROM json_each(?)`;
  }

  /** Add rows given column by column (as Parquet decodes them), without building row arrays. */
  addColumns(columns: ArrayLike<unknown>[]): void {
    const count = columns[0]?.length ?? 0;
    for (let r = 0; r < count; r++) {
      let text = "[";
      for (let i = 0; i < columns.length; i++) {
        if (i > 0) text += ",";
        text += jsonValue(columns[i][r], this.#kinds[i]);
      }
      this.#push(`${text}]`);
    }
  }

  /** Add one row, its values in column order. */
  addRow(values: readonly unknown[]): void {
    let text = "[";
    for (let i = 0; i < this.#kinds.length; i++) {
      if (i > 0) text += ",";
      text += jsonValue(values[i], this.#kinds[i]);
    }
    this.#push(`${text}]`);
  }

  #push(text: string): void {
    this.#parts.push(text);
    this.#bytes += text.length + 1;
    if (this.#bytes >= BulkInserter.BATCH_CHARS) this.flush();
  }

  flush(): void {
    if (this.#parts.length === 0) return;
    this.#sql.exec(this.#statement, `[${this.#parts.join(",")}]`);
    this.rows += this.#parts.length;
    this.#parts = [];
    this.#bytes = 0;
  }
}

/**
 * Row i's value in the statement: blob columns travel as hex; JSON-text columns (mixed types) hold
 * each value as its JSON, a blob among them as `{"$b": hex}` (as in the WAL's images), text that
 * is not UTF-8 as `{"$t": hex}` of its bytes.
 */
function valueExpr(i: number, kind: ValueKind): string {
  if (kind === "blob") return `unhex(value->>${i})`;
  if (kind === "json")
    return `iif(json_type(value, '$[${i}]') = 'object', coalesce(unhex(value->>'$[${i}]."$b"'), CAST(unhex(value->>'$[${i}]."$t"') AS TEXT)), value->>${i})`;
  return `value->>${i}`;
}

/**
 * "real": a floating-point column, whose integral values must stay REAL ("5.0", not "5").
 * "json": strings that already are JSON text of SQL values: spliced in as they are.
 */
type ValueKind = "blob" | "real" | "json" | "any";

function jsonValue(v: unknown, kind: ValueKind): string {
  if (v === null || v === undefined) return "null";
  switch (typeof v) {
    case "number":
      return numberJson(v, kind === "real");
    case "bigint":
      return v.toString();
    case "string":
      return kind === "json" ? v : JSON.stringify(v);
    case "boolean":
      return v ? "1" : "0";
  }
  if (v instanceof Date) return String(v.getTime());
  if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
    const bytes =
      v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    const hex = toHex(bytes);
    return kind === "blob" ? `"${hex}"` : JSON.stringify(new TextDecoder().decode(bytes));
  }
  return JSON.stringify(JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x)));
}

/**
 * A number as JSON text SQLite reads back as the same value: `real` keeps an integral REAL a REAL
 * (`5.0`), -0.0 keeps its sign, and the infinities JSON cannot spell are `±9e999`, which SQLite
 * reads as infinity. NaN is NULL (SQLite stores NaN as NULL).
 */
export function numberJson(v: number, real: boolean): string {
  if (Number.isNaN(v)) return "null";
  if (!Number.isFinite(v)) return v > 0 ? "9e999" : "-9e999";
  const text = Object.is(v, -0) ? "-0" : String(v);
  return real && Number.isInteger(v) && !text.includes("e") ? `${text}.0` : text;
}
