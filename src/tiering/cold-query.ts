import { quoteIdent } from "../database";
import { ActorError, badInput } from "../errors";
import {
  dropScratchLeftovers,
  type QueryRun,
  readerFor,
  runOverScratch,
  type ScratchColumn,
  type ScratchSource,
  ScratchTable,
  type SourceReader,
} from "../sql/scratch";
import { type ColumnFilter, findSources, globPattern, type SourceRef } from "../sql/sources";
import { columnList, notFound, pendingKeys, type TieringContext, tableColumns } from "./context";
import { type FileScan, readRange, scanFile } from "./parquet-read";
import { currentNames } from "./renames";
import { DETACHED, JOBS, MANIFEST } from "./tables";

ActorError.defineStatus("INVALID_R2_REFERENCE", 400);
ActorError.defineStatus("UNKNOWN_BUCKET", 400);

/** What a cold query reads for one source, after pruning. */
export interface SourcePlan {
  ref: string;
  /** "manifest" when this actor's manifest lists the files, "listing" when R2 was listed. */
  via: "manifest" | "listing";
  files: number;
  filesPruned: number;
  rowGroups: number;
  rowGroupsPruned: number;
  rows: number;
}

interface FileRef {
  bucket: string;
  key: string;
  size: number;
  /** Manifest id and table (absent for listed files). */
  id?: number;
  tbl?: string;
}

interface Source {
  ref: SourceRef;
  files: FileRef[];
  plan: SourcePlan;
  /** For manifest-backed sources: how to find files committed after planning. */
  recheck?: (afterId: number) => FileRef[];
  maxId: number;
  /** A file to take the columns from when pruning kept none (so the SQL still compiles). */
  schemaFile?: FileRef;
  /** Columns the scratch table must have even with no file (a hot table's, for unionQuery). */
  baseColumns?: ScratchColumn[];
  table: ScratchTable;
}

/** Rows loaded so far by one cold query, over all its archive sources. */
interface Budget {
  total: number;
}

/** `r2://<bucket>/<path>.parquet` with `*` wildcards: what the archive reads (other readers take the rest). */
export function isArchiveRef(ref: SourceRef): boolean {
  return ref.scheme === "r2" && /\.parquet$/i.test(ref.ref);
}

/**
 * Run SQL that reads `'r2://…'` sources (and, for unionQuery, a hot table plus its archive).
 *
 * Evaluation (src/sql/scratch.ts): each source is loaded into a scratch table of the actor's own
 * SQLite and the SQL runs there unchanged, so filters, GROUP BY, window functions and joins with
 * hot tables behave exactly as on hot rows. Row groups are streamed in one at a time. References
 * other readers claim (`readers`: the sources part's URLs and R2 files) load through the same path.
 * Not JavaScript evaluation: it would need a second SQL engine and could not join hot tables.
 */
export async function coldQuery<T>(
  ctx: TieringContext,
  sql: string,
  params: readonly unknown[],
  union?: string,
  readers: readonly SourceReader[] = [],
): Promise<T[]> {
  const refs = checkedRefs(ctx, sql, params, union);
  dropScratchLeftovers(ctx.storage);
  const budget: Budget = { total: 0 };
  const run: QueryRun = { rows: 0 };
  const opened: ScratchSource[] = [];
  for (const ref of refs) {
    const other = ref.kind === "url" && !isArchiveRef(ref) ? readerFor(readers, ref) : undefined;
    if (other) opened.push(await other.open(ref, params ?? [], run));
    else opened.push(scratchOf(ctx, await resolveSource(ctx, ref), budget));
  }
  // Files committed while we were loading (an archive step ran) are loaded too (`late`), until none
  // is new; the check and the query then run with no await between them, so every row is read
  // exactly once: hot, or in a file we loaded.
  return runOverScratch((text, p) => ctx.query<T>(text, p), sql, params, opened);
}

/** The tiering reader: the archive's `r2://…*.parquet` references, for a query another part runs. */
export function archiveReader(ctx: TieringContext): SourceReader {
  return {
    schemes: ["r2"],
    claims: isArchiveRef,
    open: async (ref) => scratchOf(ctx, await resolveSource(ctx, ref), { total: 0 }),
  };
}

function scratchOf(ctx: TieringContext, source: Source, budget: Budget): ScratchSource {
  return {
    ref: source.ref,
    load: () => load(ctx, source, source.files, budget),
    late: () => {
      const late = source.recheck ? source.recheck(source.maxId) : [];
      return late.length ? () => load(ctx, source, late, budget) : undefined;
    },
    finish: () => source.table.ensure([]),
    replacement: () => replacement(ctx, source),
    drop: () => source.table.drop(),
  };
}

/** The plan of a cold query without loading anything: files and row groups kept and pruned. */
export async function explainCold(
  ctx: TieringContext,
  sql: string,
  params: readonly unknown[],
  union?: string,
): Promise<SourcePlan[]> {
  const sources: Source[] = [];
  for (const ref of checkedRefs(ctx, sql, params, union)) sources.push(await resolveSource(ctx, ref));
  for (const source of sources) {
    for (const file of source.files) {
      const scan = await scanFile(await ctx.store(file.bucket).open(file.key, file.size), source.ref.filters);
      source.plan.rowGroups += scan.rowGroups;
      source.plan.rowGroupsPruned += scan.rowGroups - scan.rowGroupsKept;
      source.plan.rows += scan.rows;
    }
  }
  return sources.map((s) => s.plan);
}

function checkedRefs(
  ctx: TieringContext,
  sql: string,
  params: readonly unknown[],
  union?: string,
): SourceRef[] {
  if (typeof sql !== "string" || sql.length === 0) throw badInput("SQL must be a string");
  if (params !== undefined && !Array.isArray(params)) throw badInput("SQL params must be an array");
  if (union !== undefined && !tableColumns(ctx.sql, union).length) throw notFound(union);
  const refs = findSources(sql, params ?? [], union);
  if (union !== undefined && !refs.some((r) => r.kind === "table"))
    throw badInput(`the SQL does not read table ${union} in a FROM clause`);
  return refs;
}

async function resolveSource(ctx: TieringContext, ref: SourceRef): Promise<Source> {
  if (ref.kind === "table") return tableSource(ctx, ref);
  if (ref.scheme === "r2") return r2Source(ctx, ref);
  throw new ActorError("INVALID_R2_REFERENCE", `no source reads '${ref.scheme}://' URLs`, { ref: ref.ref });
}

const URL_PATTERN = /^r2:\/\/([A-Za-z0-9_-]{1,64})\/([A-Za-z0-9._=%*/-]+)$/;

async function r2Source(ctx: TieringContext, ref: SourceRef): Promise<Source> {
  const m = URL_PATTERN.exec(ref.ref);
  const path = m?.[2] ?? "";
  if (
    !m ||
    !path.endsWith(".parquet") ||
    path.startsWith("/") ||
    path.includes("//") ||
    path.split("/").includes("..")
  )
    throw new ActorError(
      "INVALID_R2_REFERENCE",
      `malformed archive reference '${ref.ref}': expected 'r2://<bucket>/<path>.parquet' with * wildcards`,
      { ref: ref.ref },
    );
  const bucket = ctx.bindingOf(m[1]);
  const prefix = path.slice(0, path.indexOf("*") < 0 ? path.length : path.indexOf("*"));
  // `*` matches any run of characters, `/` included: `<prefix>/*.parquet` is every file under it.
  const pattern = globPattern(path);
  const roots = ctx.sql
    .exec<{ root: string }>(`SELECT DISTINCT root FROM ${MANIFEST} WHERE bucket = ?`, bucket)
    .toArray();
  const covered = roots.some((r) => prefix.startsWith(r.root));
  const source = newSource(ctx, ref, covered ? "manifest" : "listing");
  if (!covered) {
    // Not archived by this actor (another actor's files, or written elsewhere): list R2.
    const listed = await ctx.store(bucket).list(prefix);
    const unheld = unheldKeys(ctx, bucket);
    source.files = listed
      .filter((o) => pattern.test(o.key) && !unheld.has(o.key))
      .map((o) => ({ bucket, key: o.key, size: o.size }));
    source.plan.files = source.files.length;
    return source;
  }
  const select = (afterId: number) =>
    manifestFiles(ctx, `bucket = ? AND substr(key, 1, ?) = ? AND id > ?`, [
      bucket,
      prefix.length,
      prefix,
      afterId,
    ]).filter((f) => pattern.test(f.key));
  return withManifest(source, select, ref.filters);
}

/**
 * Files this actor put in R2 but does not hold: attempts not committed (yet, or ever) and files a
 * restore took out of the manifest, whose rows are hot again (or gone). A listing never reads them.
 */
function unheldKeys(ctx: TieringContext, bucket: string): Set<string> {
  const keys = new Set(
    ctx.sql
      .exec<{ key: string }>(`SELECT key FROM ${DETACHED} WHERE bucket = ?`, bucket)
      .toArray()
      .map((r) => r.key),
  );
  for (const { id } of ctx.sql.exec<{ id: string }>(`SELECT id FROM ${JOBS}`).toArray())
    for (const p of pendingKeys(ctx.sql, id)) if (p.bucket === bucket) keys.add(p.key);
  return keys;
}

function tableSource(ctx: TieringContext, ref: SourceRef): Source {
  const source = newSource(ctx, ref, "manifest");
  // With their defaults: a file archived before a column was added reads it as SQLite reads the
  // rows that were there before an ADD COLUMN.
  const defaults = new Map(
    ctx.sql
      .exec<{ name: string; d: string | null }>(
        "SELECT name, dflt_value AS d FROM pragma_table_xinfo(?)",
        ref.ref,
      )
      .toArray()
      .map((c) => [c.name, c.d ?? undefined]),
  );
  source.baseColumns = tableColumns(ctx.sql, ref.ref).map((c) => ({ ...c, default: defaults.get(c.name) }));
  const select = (afterId: number) => manifestFiles(ctx, `tbl = ? AND id > ?`, [ref.ref, afterId]);
  return withManifest(source, select, ref.filters);
}

function newSource(ctx: TieringContext, ref: SourceRef, via: SourcePlan["via"]): Source {
  return {
    ref,
    files: [],
    plan: { ref: ref.ref, via, files: 0, filesPruned: 0, rowGroups: 0, rowGroupsPruned: 0, rows: 0 },
    maxId: 0,
    table: new ScratchTable(ctx.sql),
  };
}

interface ManifestFile extends FileRef {
  id: number;
  timeColumn: string;
  minTime: number;
  maxTime: number;
}

function manifestFiles(ctx: TieringContext, where: string, args: SqlStorageValue[]): ManifestFile[] {
  return ctx.sql
    .exec<{
      id: number;
      bucket: string;
      key: string;
      byte_size: number;
      tbl: string;
      time_column: string;
      min_time: number;
      max_time: number;
    }>(
      `SELECT id, bucket, key, byte_size, tbl, time_column, min_time, max_time FROM ${MANIFEST} WHERE ${where} ORDER BY id`,
      ...args,
    )
    .toArray()
    .map((r) => ({
      id: r.id,
      bucket: r.bucket,
      key: r.key,
      size: r.byte_size,
      tbl: r.tbl,
      timeColumn: r.time_column,
      minTime: r.min_time,
      maxTime: r.max_time,
    }));
}

/** Keep the manifest files whose [min, max] time can meet the query's range on the time column. */
function withManifest(
  source: Source,
  select: (afterId: number) => ManifestFile[],
  filters: ColumnFilter[],
): Source {
  const prune = (files: ManifestFile[]) => {
    const kept = files.filter((f) => overlaps(f, filters));
    if (kept.length === 0 && files.length > 0) source.schemaFile ??= files[0];
    source.plan.files += kept.length;
    source.plan.filesPruned += files.length - kept.length;
    for (const f of files) source.maxId = Math.max(source.maxId, f.id);
    return kept;
  };
  source.files = prune(select(0));
  source.recheck = (afterId) => prune(select(afterId));
  return source;
}

function overlaps(file: ManifestFile, filters: ColumnFilter[]): boolean {
  for (const f of filters) {
    if (typeof f.value !== "number" || f.column.toLowerCase() !== file.timeColumn.toLowerCase()) continue;
    if ((f.op === ">" && file.maxTime <= f.value) || (f.op === ">=" && file.maxTime < f.value)) return false;
    if ((f.op === "<" && file.minTime >= f.value) || (f.op === "<=" && file.minTime > f.value)) return false;
    if (f.op === "=" && (file.maxTime < f.value || file.minTime > f.value)) return false;
  }
  return true;
}

/** Stream the kept row groups of `files` into the source's scratch table, counting rows in `budget`. */
async function load(ctx: TieringContext, source: Source, files: FileRef[], budget: Budget): Promise<void> {
  const table = source.table;
  if (source.baseColumns) table.ensure(source.baseColumns);
  if (files.length === 0 && table.columns.size === 0 && source.schemaFile) {
    const file = source.schemaFile;
    const { columns } = await scanFile(await ctx.store(file.bucket).open(file.key, file.size), []);
    table.ensure(renamed(ctx, file, columns));
  }
  for (const file of files) {
    const scan = await scanFile(await ctx.store(file.bucket).open(file.key, file.size), source.ref.filters);
    source.plan.rowGroups += scan.rowGroups;
    source.plan.rowGroupsPruned += scan.rowGroups - scan.rowGroupsKept;
    source.plan.rows += scan.rows;
    budget.total += scan.rows;
    guard(ctx, scan, budget.total);
    const columns = renamed(ctx, file, scan.columns);
    table.ensure(columns);
    const inserter = table.inserter(columns);
    for (const range of scan.scan.ranges) {
      inserter.addColumns(await readRange(scan, range.rowStart, range.rowEnd));
      inserter.flush();
    }
  }
}

/** An archived file of this actor names its columns as they were: its columns under today's names. */
function renamed<C extends { name: string }>(ctx: TieringContext, file: FileRef, columns: C[]): C[] {
  if (file.id === undefined || file.tbl === undefined) return columns;
  const named = currentNames(ctx.sql, file.tbl, file.id);
  return columns.map((c) => ({ ...c, name: named(c.name) }));
}

function guard(ctx: TieringContext, scan: FileScan, total: number): void {
  const { maxColdRows, maxRowGroupBytes } = ctx.config;
  if (total > maxColdRows)
    throw new ActorError(
      "QUERY_TOO_LARGE",
      `the query would load more than ${maxColdRows} archived rows; narrow its time range`,
      { maxRows: maxColdRows },
    );
  if (scan.largestGroupBytes > maxRowGroupBytes)
    throw new ActorError(
      "QUERY_TOO_LARGE",
      `an archived row group needs ${scan.largestGroupBytes} bytes to read, over the ${maxRowGroupBytes} allowed`,
      { maxRowGroupBytes },
    );
}

/** What replaces a reference: its scratch table; a hot table: the union of it and its scratch table. */
function replacement(ctx: TieringContext, s: Source): string {
  if (s.ref.kind === "url") return quoteIdent(s.table.name);
  const hot = tableColumns(ctx.sql, s.ref.ref);
  const cold = hot.map((c) =>
    s.table.columns.has(c.name.toLowerCase()) ? quoteIdent(c.name) : `NULL AS ${quoteIdent(c.name)}`,
  );
  const text = `(SELECT ${columnList(hot)} FROM ${quoteIdent(s.ref.ref)} UNION ALL SELECT ${cold.join(", ")} FROM ${quoteIdent(s.table.name)})`;
  return s.ref.alias ? text : `${text} AS ${quoteIdent(s.ref.ref)}`;
}
