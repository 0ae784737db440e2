import { quoteIdent } from "../database";
import { ActorError, badInput, sqlError } from "../errors";
import { affinityOf } from "./affinity";
import { BulkInserter } from "./bulk-insert";
import { COLLATIONS, type Collation } from "./collations";
import { findSources, type SourceRef } from "./sources";
import { dropTablesWithPrefix } from "./tables";
import { splice } from "./tokens";

/** Per-query scratch tables of `'scheme://…'` sources: never outlive a call. */
export const SCRATCH_PREFIX = "_dosql_cold_";

/** A column of a scratch table: its declared type (and collation) and how its values travel. */
export interface ScratchColumn {
  name: string;
  type: string;
  collation?: string;
  blob?: boolean;
  real?: boolean;
  json?: boolean;
  /** A hot table's DEFAULT expression (SQL text from the actor's own schema, never from a file). */
  default?: string;
}

let scratchSeq = 0;

/**
 * The one table a source is loaded into for one query. Not `CREATE TEMP TABLE` (DO SQLite refuses
 * it): a real table of the actor's SQLite, dropped in the same synchronous step that runs the query.
 */
export class ScratchTable {
  readonly name = `${SCRATCH_PREFIX}${Date.now().toString(36)}_${scratchSeq++}`;
  /** Lower-case name → the name as created. */
  readonly columns = new Map<string, string>();

  /** `corrupt`: the error code when a column's metadata is not to be trusted (an unknown collation). */
  constructor(
    private readonly sql: SqlStorage,
    private readonly corrupt = "ARCHIVE_FILE_CORRUPT",
  ) {}

  /** Create the table, or add the columns a later file (or row) brings. */
  ensure(columns: readonly ScratchColumn[]): void {
    const t = quoteIdent(this.name);
    if (this.columns.size === 0) {
      // Nothing to take columns from: a one-column table, so `count(*)` still works.
      const initial = columns.length ? columns : [{ name: "_dosql_empty", type: "" }];
      this.sql.exec(
        `CREATE TABLE ${t} (${initial.map((c) => `${quoteIdent(c.name)} ${this.#typeOf(c)}${defaultOf(c)}`).join(", ")})`,
      );
      for (const c of initial) this.columns.set(c.name.toLowerCase(), c.name);
      return;
    }
    for (const c of columns) {
      if (this.columns.has(c.name.toLowerCase())) continue;
      this.sql.exec(`ALTER TABLE ${t} ADD COLUMN ${quoteIdent(c.name)} ${this.#typeOf(c)}${defaultOf(c)}`);
      this.columns.set(c.name.toLowerCase(), c.name);
    }
  }

  /** Bulk inserts of rows with these columns (call `ensure` first). */
  inserter(columns: readonly ScratchColumn[]): BulkInserter {
    return new BulkInserter(this.sql, this.name, [...columns]);
  }

  drop(): void {
    this.sql.exec(`DROP TABLE IF EXISTS ${quoteIdent(this.name)}`);
  }

  /**
   * A column's definition: the declared type and collation, so values get the same affinity and
   * compare, group and sort as they would in a real table. The text comes from a file, and a file
   * is not trusted to put SQL in our statements: a type that is not plain words (and an optional
   * size) becomes its affinity keyword, and only SQLite's own collations are named.
   */
  #typeOf(c: ScratchColumn): string {
    const type =
      SAFE_TYPE.test(c.type) && !c.type.split(/[\s(]+/).some((w) => NOT_A_TYPE.has(w.toUpperCase()))
        ? c.type
        : affinityOf(c.type);
    const collation = (c.collation ?? "BINARY").toUpperCase();
    if (!COLLATIONS.includes(collation as Collation))
      throw new ActorError(this.corrupt, `column ${c.name} has an unknown collation`);
    return collation === "BINARY" ? type : `${type} COLLATE ${collation}`;
  }
}
function defaultOf(c: ScratchColumn): string {
  return c.default === undefined ? "" : ` DEFAULT (${c.default})`;
}
const SAFE_TYPE = /^[A-Za-z_][A-Za-z0-9_ ]{0,60}(\(\s*[+-]?\d{1,9}\s*(,\s*[+-]?\d{1,9}\s*)?\))?$/;
/** Words that would make a "type" a constraint: never let them through. */
const NOT_A_TYPE = new Set(
  "CONSTRAINT PRIMARY KEY NOT NULL UNIQUE CHECK DEFAULT COLLATE REFERENCES GENERATED AS ON CONFLICT".split(
    " ",
  ),
);

/**
 * One source of a statement, ready to load: what a `SourceReader` opens for a `'scheme://…'`
 * reference (tiering for its archive, sources for URLs and R2 files).
 */
export interface ScratchSource {
  readonly ref: SourceRef;
  /** Stream the rows into the scratch table, in bounded chunks. */
  load(): Promise<void>;
  /**
   * Synchronously: rows that became visible while loading (tiering: files archived meanwhile), as
   * the work that loads them, or undefined when none. Asked until no source has any; the query
   * then runs with no await in between.
   */
  late?(): (() => Promise<void>) | undefined;
  /** Make sure the scratch table exists, even with no rows. */
  finish(): void;
  /** The SQL text that replaces the reference. */
  replacement(): string;
  drop(): void;
}

/** What reads the `'<scheme>://…'` references of some schemes: a part offers one (PartInstance.reader). */
export interface SourceReader {
  readonly schemes: readonly string[];
  /** Whether this reader takes the reference (tiering: r2 archives, `*.parquet`). Unset: every one. */
  claims?(ref: SourceRef): boolean;
  /** `run` is shared by every source of one query (row bounds count over all of them). */
  open(ref: SourceRef, params: readonly unknown[], run: QueryRun): ScratchSource | Promise<ScratchSource>;
}

/** What the sources of one query share while they load. */
export interface QueryRun {
  /** Rows loaded so far. */
  rows: number;
}

/** The reader of a reference: the first that claims it, else the last one of its scheme (for its error). */
export function readerFor(readers: readonly SourceReader[], ref: SourceRef): SourceReader | undefined {
  const of = readers.filter((r) => ref.scheme !== undefined && r.schemes.includes(ref.scheme));
  return of.find((r) => !r.claims || r.claims(ref)) ?? of.at(-1);
}

const cleaned = new WeakSet<DurableObjectStorage>();

/**
 * Scratch tables left by an isolate that died mid-query: dropped once per instance, before its
 * first query over sources (a scratch table of this instance is never older than that).
 */
export function dropScratchLeftovers(storage: DurableObjectStorage): void {
  if (cleaned.has(storage)) return;
  cleaned.add(storage);
  dropTablesWithPrefix(storage.sql, SCRATCH_PREFIX);
}

/**
 * Run SQL whose `'scheme://…'` sources are loaded into scratch tables: the SQL runs in SQLite
 * unchanged but for the references, so filters, GROUP BY, window functions and joins with hot
 * tables behave exactly as on real tables. Not one transaction around the load (reads are async and
 * `transactionSync` cannot span an await): rows stream in chunk by chunk, each insert its own
 * write, and the scratch tables are dropped whatever happens.
 */
export async function runOverScratch<T>(
  query: (text: string, params: readonly unknown[]) => T[],
  text: string,
  params: readonly unknown[],
  sources: readonly ScratchSource[],
): Promise<T[]> {
  try {
    for (const source of sources) await source.load();
    for (;;) {
      const work = sources.map((s) => s.late?.()).filter((w) => w !== undefined);
      if (work.length === 0) break;
      for (const w of work) await w();
    }
    for (const s of sources) s.finish();
    const spliced = splice(
      text,
      sources.map((s) => ({ start: s.ref.start, end: s.ref.end, text: s.replacement() })),
    );
    try {
      return query(spliced, params);
    } catch (err) {
      throw sqlError(err);
    }
  } finally {
    for (const s of sources) {
      try {
        s.drop();
      } catch {}
    }
  }
}

/**
 * A statement over `'scheme://…'` sources, each opened by the reader that takes it (every reader
 * of the actor's parts: a query may join an archive, a URL and an R2 file), then run over scratch
 * tables. Every reference is opened (and refused, if it must be) before any is loaded.
 */
export async function queryOverSources<T>(
  storage: DurableObjectStorage,
  query: (text: string, params: readonly unknown[]) => T[],
  text: string,
  params: readonly unknown[],
  readers: readonly SourceReader[],
): Promise<T[]> {
  if (typeof text !== "string" || text.length === 0) throw badInput("SQL must be a string");
  if (params !== undefined && !Array.isArray(params)) throw badInput("SQL params must be an array");
  dropScratchLeftovers(storage);
  const run: QueryRun = { rows: 0 };
  const sources: ScratchSource[] = [];
  for (const ref of findSources(text, params ?? [])) {
    const reader = readerFor(readers, ref);
    if (!reader)
      throw new ActorError("INVALID_SOURCE", `${ref.ref}: no part reads '${ref.scheme}://' references`, {
        source: ref.ref,
      });
    sources.push(await reader.open(ref, params ?? [], run));
  }
  return runOverScratch(query, text, params ?? [], sources);
}
