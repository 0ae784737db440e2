import { ActorError } from "../errors";
import { affinityOf } from "../sql/affinity";
import type { BulkInserter } from "../sql/bulk-insert";
import type { QueryRun, ScratchColumn, ScratchTable } from "../sql/scratch";
import type { ColumnFilter } from "../sql/sources";
import { badFormat } from "./errors";

/** DO SQLite allows 100 columns per table. */
const MAX_COLUMNS = 100;

/**
 * Rows of a text format (JSON, NDJSON, CSV) on their way to the scratch table: at most `chunkRows`
 * held in memory, then written. Columns are what the rows bring (keys of objects, or the CSV
 * header); each column's type is declared (`#columns=`) or sampled from the first chunk that has
 * it, so values get the affinity they would have in a real table.
 */
export class RowSink {
  readonly #columns: ScratchColumn[] = [];
  readonly #index = new Map<string, number>();
  #pending: { row: unknown; line: number }[] = [];
  #inserter: BulkInserter | undefined;
  readonly #declared: Map<string, string>;
  readonly #declaredColumns: { name: string; type: string }[];
  /** CSV: the header names the columns; their types come from the first chunk. */
  header: string[] | undefined;

  constructor(
    private readonly table: ScratchTable,
    private readonly run: QueryRun,
    private readonly maxRows: number,
    private readonly chunkRows: number,
    readonly label: string,
    declared: { name: string; type: string }[] = [],
    private readonly filters: readonly ColumnFilter[] = [],
  ) {
    this.#declared = new Map(declared.map((c) => [c.name.toLowerCase(), c.type]));
    this.#declaredColumns = declared;
  }

  /** A JSON object (JSON, NDJSON); `line` (or element index) for errors. */
  addObject(row: unknown, line: number): void {
    if (typeof row !== "object" || row === null || Array.isArray(row))
      throw badFormat(this.label, "a row must be a JSON object", { line });
    this.#add(row, line);
  }

  /** A CSV record, its values in header order (already named by `header`). */
  addValues(values: unknown[], line: number): void {
    this.#add(values, line);
  }

  #add(row: unknown, line: number): void {
    this.#pending.push({ row, line });
    if (this.#pending.length >= this.chunkRows) this.flush();
  }

  flush(): void {
    const pending = this.#pending;
    this.#pending = [];
    if (pending.length === 0) return;
    if (this.header) this.#headerColumns(pending);
    else this.#objectColumns(pending);
    this.table.ensure(this.#columns);
    this.#inserter ??= this.table.inserter(this.#columns);
    const width = this.#columns.length;
    const tests = this.#tests();
    for (const { row } of pending) {
      let values: unknown[];
      if (Array.isArray(row)) values = this.header ? this.#typed(row) : row;
      else {
        values = new Array(width).fill(null);
        for (const [k, v] of Object.entries(row as Record<string, unknown>))
          values[this.#index.get(k.toLowerCase())!] = v;
      }
      if (tests.length && !tests.every((t) => t(values))) continue;
      if (++this.run.rows > this.maxRows)
        throw new ActorError(
          "QUERY_TOO_LARGE",
          `the query would load more than ${this.maxRows} rows from its sources`,
          {
            maxRows: this.maxRows,
            source: this.label,
          },
        );
      this.#inserter.addRow(values);
    }
    this.#inserter.flush();
  }

  /**
   * Rows that certainly fail a top-level `AND` condition of the WHERE clause on this source are
   * not written (SQLite still evaluates the whole WHERE on what is). Only where the answer is
   * SQLite's: a NULL never compares true; a number against a number unless the column has TEXT
   * affinity (then SQLite compares text); a string against a string in a TEXT or untyped column,
   * for a range only when both are ASCII (JavaScript compares UTF-16 units, SQLite UTF-8 bytes).
   * Anything else is kept.
   */
  #tests(): ((values: unknown[]) => boolean)[] {
    const tests: ((values: unknown[]) => boolean)[] = [];
    for (const f of this.filters) {
      const i = this.#index.get(f.column.toLowerCase());
      if (i === undefined) continue;
      const affinity = affinityOf(this.#columns[i].type);
      const want = f.value;
      const cmp = COMPARE[f.op];
      tests.push((values) => {
        const v = values[i];
        if (v === null || v === undefined) return false;
        if (typeof v === "number" && typeof want === "number")
          return affinity === "TEXT" || Number.isNaN(v) ? true : cmp(v, want);
        if (typeof v === "string" && typeof want === "string" && (affinity === "TEXT" || affinity === "BLOB"))
          return f.op === "=" || (ASCII.test(v) && ASCII.test(want)) ? cmp(v, want) : true;
        return true;
      });
    }
    return tests;
  }

  /** Close: write what is held; make sure the table has the declared (or header) columns even with no row. */
  end(): void {
    this.flush();
    if (this.header && this.#columns.length === 0)
      this.#addColumns(
        this.header.map((name) => ({ name, type: this.#declared.get(name.toLowerCase()) ?? "TEXT" })),
      );
    if (!this.header)
      this.#addColumns(this.#declaredColumns.filter((c) => !this.#index.has(c.name.toLowerCase())));
    if (this.#columns.length) this.table.ensure(this.#columns);
  }

  #objectColumns(pending: { row: unknown; line: number }[]): void {
    const seen = new Map<string, { name: string; values: unknown[]; line: number }>();
    for (const { row, line } of pending)
      for (const [k, v] of Object.entries(row as Record<string, unknown>)) {
        const key = k.toLowerCase();
        if (this.#index.has(key)) continue;
        if (k.length === 0 || k.length > 128)
          throw badFormat(this.label, "a field name must have 1 to 128 characters", { line });
        let s = seen.get(key);
        if (!s) {
          s = { name: k, values: [], line };
          seen.set(key, s);
        }
        s.values.push(v);
      }
    if (seen.size === 0) return;
    this.#addColumns(
      [...seen.values()].map((s) => ({
        name: s.name,
        type: this.#declared.get(s.name.toLowerCase()) ?? sampleType(s.values),
      })),
      [...seen.values()][0].line,
    );
  }

  #headerColumns(pending: { row: unknown; line: number }[]): void {
    for (const { row, line } of pending)
      if ((row as unknown[]).length !== this.header!.length)
        throw badFormat(
          this.label,
          `expected ${this.header!.length} fields, found ${(row as unknown[]).length}`,
          { line },
        );
    if (this.#columns.length) return;
    this.#addColumns(
      this.header!.map((name, i) => ({
        name,
        type:
          this.#declared.get(name.toLowerCase()) ??
          sampleCsvType(pending.map((p) => (p.row as unknown[])[i])),
      })),
    );
  }

  #addColumns(columns: ScratchColumn[], line?: number): void {
    for (const c of columns) {
      const key = c.name.toLowerCase();
      if (this.#index.has(key)) {
        if (this.header)
          throw badFormat(this.label, `column ${c.name} appears twice in the header`, { line: 1 });
        continue;
      }
      if (this.#columns.length >= MAX_COLUMNS)
        throw badFormat(this.label, `more than ${MAX_COLUMNS} columns`, { line: line ?? 1 });
      this.#index.set(key, this.#columns.length);
      this.#columns.push({ ...c, real: c.type === "REAL" || c.type === "FLOAT" || c.type === "DOUBLE" });
    }
    this.#inserter = undefined;
  }

  /** CSV text: empty is NULL; a numeric column's numbers travel as numbers (the rest as text). */
  #typed(values: unknown[]): unknown[] {
    return values.map((v, i) => {
      if (v === "") return null;
      const type = this.#columns[i].type;
      if (typeof v === "string" && NUMERIC_TYPES.has(type) && NUMBER.test(v)) return Number(v);
      if (typeof v === "string" && type === "BOOLEAN") return BOOL[v.toLowerCase()] ?? v;
      return v;
    });
  }
}

const COMPARE: Record<ColumnFilter["op"], (a: number | string, b: number | string) => boolean> = {
  "=": (a, b) => a === b,
  "<": (a, b) => a < b,
  "<=": (a, b) => a <= b,
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
};
// biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range on purpose
const ASCII = /^[\u0000-\u007f]*$/;
const NUMERIC_TYPES = new Set(["INTEGER", "INT", "REAL", "FLOAT", "DOUBLE", "NUMERIC"]);
const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
const INTEGER = /^-?(0|[1-9]\d{0,14})$/;
const BOOL: Record<string, number> = { true: 1, false: 0 };

/** The type of a JSON field from its sampled values: one kind throughout, else no type (values kept as they are). */
function sampleType(values: unknown[]): string {
  const kinds = new Set<string>();
  for (const v of values) {
    if (v === null || v === undefined) continue;
    if (typeof v === "number") kinds.add(Number.isSafeInteger(v) ? "int" : "real");
    else if (typeof v === "boolean") kinds.add("bool");
    else if (typeof v === "string") kinds.add("text");
    else kinds.add("json");
  }
  if (kinds.size === 1)
    return { int: "INTEGER", real: "REAL", bool: "INTEGER", text: "TEXT", json: "TEXT" }[[...kinds][0]]!;
  if (kinds.size === 2 && kinds.has("int") && kinds.has("real")) return "REAL";
  return "";
}

/** A CSV column's type from its sampled values: INTEGER or REAL when every non-empty value is that number, else TEXT. */
function sampleCsvType(values: unknown[]): string {
  let all = 0;
  let ints = 0;
  let numbers = 0;
  for (const v of values) {
    if (typeof v !== "string" || v === "") continue;
    all++;
    if (INTEGER.test(v)) ints++;
    if (NUMBER.test(v)) numbers++;
  }
  if (all === 0) return "TEXT";
  if (ints === all) return "INTEGER";
  return numbers === all ? "REAL" : "TEXT";
}
