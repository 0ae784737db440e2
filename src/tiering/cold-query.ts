import { quoteIdent } from "../database";
import { ActorError, badInput } from "../errors";
import { affinityOf } from "../sql/affinity";
import { COLLATIONS, type Collation } from "../sql/collations";
import { type ColumnFilter, findSources, type SourceRef } from "../sql/sources";
import { splice } from "../sql/tokens";
import { BulkInserter } from "./bulk-insert";
import { columnList, notFound, type TieringContext, tableColumns } from "./context";
import { type FileScan, readRange, scanFile } from "./parquet-read";
import { MANIFEST, SCRATCH_PREFIX } from "./tables";

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
  /** Manifest id (absent for listed files). */
  id?: number;
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
  baseColumns?: { name: string; type: string }[];
  scratch: string;
  columns: Map<string, string>;
}

let scratchSeq = 0;

/**
 * Run SQL that reads `'r2://…'` sources (and, for unionQuery, a hot table plus its archive).
 *
 * Evaluation: each source is loaded into a scratch table of the actor's own SQLite and the SQL runs
 * there unchanged, so filters, GROUP BY, window functions and joins with hot tables behave exactly
 * as on hot rows. Not `CREATE TEMP TABLE` (DO SQLite refuses it) and not one transaction around the
 * load (R2 reads are async and `transactionSync` cannot span an await): row groups are streamed in
 * one at a time, each insert its own write, and the scratch tables are dropped in the same
 * synchronous step that runs the query (leftovers of a crashed isolate are dropped on next wake).
 * Not JavaScript evaluation either: it would need a second SQL engine and could not join hot tables.
 */
export async function coldQuery<T>(
  ctx: TieringContext,
  sql: string,
  params: readonly unknown[],
  union?: string,
): Promise<T[]> {
  const sources = await resolveSources(ctx, sql, params, union);
  try {
    let total = 0;
    for (const source of sources) total = await load(ctx, source, source.files, total);
    // Files committed while we were loading (an archive step ran): load them too, until none is
    // new. The check and the query then run with no await between them, so every row is read
    // exactly once: hot, or in a file we loaded.
    for (;;) {
      const late = sources.map((s) => (s.recheck ? s.recheck(s.maxId) : []));
      if (late.every((f) => f.length === 0)) break;
      for (let i = 0; i < sources.length; i++) total = await load(ctx, sources[i], late[i], total);
    }
    for (const s of sources) ensureScratch(ctx, s, []);
    return ctx.query<T>(rewrite(ctx, sql, sources), params);
  } finally {
    for (const s of sources) ctx.sql.exec(`DROP TABLE IF EXISTS ${quoteIdent(s.scratch)}`);
  }
}

/** The plan of a cold query without loading anything: files and row groups kept and pruned. */
export async function explainCold(
  ctx: TieringContext,
  sql: string,
  params: readonly unknown[],
  union?: string,
): Promise<SourcePlan[]> {
  const sources = await resolveSources(ctx, sql, params, union);
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

async function resolveSources(
  ctx: TieringContext,
  sql: string,
  params: readonly unknown[],
  union?: string,
): Promise<Source[]> {
  if (typeof sql !== "string" || sql.length === 0) throw badInput("SQL must be a string");
  if (params !== undefined && !Array.isArray(params)) throw badInput("SQL params must be an array");
  if (union !== undefined && !tableColumns(ctx.sql, union).length) throw notFound(union);
  const refs = findSources(sql, params ?? [], union);
  if (union !== undefined && !refs.some((r) => r.kind === "table"))
    throw badInput(`the SQL does not read table ${union} in a FROM clause`);
  const sources: Source[] = [];
  for (const ref of refs) {
    if (ref.kind === "table") sources.push(tableSource(ctx, ref));
    else if (ref.scheme === "r2") sources.push(await r2Source(ctx, ref));
    else
      throw new ActorError("INVALID_R2_REFERENCE", `no source reads '${ref.scheme}://' URLs`, {
        ref: ref.ref,
      });
  }
  return sources;
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
  const pattern = new RegExp(
    `^${path
      .split("*")
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  const roots = ctx.sql
    .exec<{ root: string }>(`SELECT DISTINCT root FROM ${MANIFEST} WHERE bucket = ?`, bucket)
    .toArray();
  const covered = roots.some((r) => prefix.startsWith(r.root));
  const source = newSource(ref, covered ? "manifest" : "listing");
  if (!covered) {
    // Not archived by this actor (another actor's files, or written elsewhere): list R2.
    const listed = await ctx.store(bucket).list(prefix);
    source.files = listed
      .filter((o) => pattern.test(o.key))
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

function tableSource(ctx: TieringContext, ref: SourceRef): Source {
  const source = newSource(ref, "manifest");
  source.baseColumns = tableColumns(ctx.sql, ref.ref);
  const select = (afterId: number) => manifestFiles(ctx, `tbl = ? AND id > ?`, [ref.ref, afterId]);
  return withManifest(source, select, ref.filters);
}

function newSource(ref: SourceRef, via: SourcePlan["via"]): Source {
  return {
    ref,
    files: [],
    plan: { ref: ref.ref, via, files: 0, filesPruned: 0, rowGroups: 0, rowGroupsPruned: 0, rows: 0 },
    maxId: 0,
    scratch: `${SCRATCH_PREFIX}${Date.now().toString(36)}_${scratchSeq++}`,
    columns: new Map(),
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
      time_column: string;
      min_time: number;
      max_time: number;
    }>(
      `SELECT id, bucket, key, byte_size, time_column, min_time, max_time FROM ${MANIFEST} WHERE ${where} ORDER BY id`,
      ...args,
    )
    .toArray()
    .map((r) => ({
      id: r.id,
      bucket: r.bucket,
      key: r.key,
      size: r.byte_size,
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

/** Stream the kept row groups of `files` into the source's scratch table; returns the running row total. */
async function load(ctx: TieringContext, source: Source, files: FileRef[], total: number): Promise<number> {
  if (source.baseColumns) ensureScratch(ctx, source, source.baseColumns);
  if (files.length === 0 && source.columns.size === 0 && source.schemaFile) {
    const file = source.schemaFile;
    ensureScratch(
      ctx,
      source,
      (await scanFile(await ctx.store(file.bucket).open(file.key, file.size), [])).columns,
    );
  }
  for (const file of files) {
    const scan = await scanFile(await ctx.store(file.bucket).open(file.key, file.size), source.ref.filters);
    source.plan.rowGroups += scan.rowGroups;
    source.plan.rowGroupsPruned += scan.rowGroups - scan.rowGroupsKept;
    source.plan.rows += scan.rows;
    total += scan.rows;
    guard(ctx, scan, total);
    ensureScratch(ctx, source, scan.columns);
    const inserter = new BulkInserter(ctx.sql, source.scratch, scan.columns);
    for (const range of scan.scan.ranges) {
      inserter.addColumns(await readRange(scan, range.rowStart, range.rowEnd));
      inserter.flush();
    }
  }
  return total;
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

/** Create the scratch table, or add the columns a later file brings. */
function ensureScratch(ctx: TieringContext, source: Source, columns: { name: string; type: string }[]): void {
  const t = quoteIdent(source.scratch);
  if (source.columns.size === 0) {
    // No file and no table to take columns from: a one-column table, so `count(*)` still works.
    const initial = columns.length ? columns : [{ name: "_dosql_empty", type: "" }];
    ctx.sql.exec(
      `CREATE TABLE ${t} (${initial.map((c) => `${quoteIdent(c.name)} ${typeOf(c)}`).join(", ")})`,
    );
    for (const c of initial) source.columns.set(c.name.toLowerCase(), c.name);
    return;
  }
  for (const c of columns) {
    if (source.columns.has(c.name.toLowerCase())) continue;
    ctx.sql.exec(`ALTER TABLE ${t} ADD COLUMN ${quoteIdent(c.name)} ${typeOf(c)}`);
    source.columns.set(c.name.toLowerCase(), c.name);
  }
}

/**
 * A scratch column's definition: the archived column's declared type and collation, so values get
 * the same affinity and compare, group and sort as they did hot. The text comes from file metadata,
 * and a file in R2 is not trusted to put SQL in our statements: a type that is not plain words (and
 * an optional size) becomes its affinity keyword, and only SQLite's own collations are named.
 */
function typeOf(c: { name: string; type: string; collation?: string }): string {
  const type =
    SAFE_TYPE.test(c.type) && !c.type.split(/[\s(]+/).some((w) => NOT_A_TYPE.has(w.toUpperCase()))
      ? c.type
      : affinityOf(c.type);
  const collation = (c.collation ?? "BINARY").toUpperCase();
  if (!COLLATIONS.includes(collation as Collation))
    throw new ActorError("ARCHIVE_FILE_CORRUPT", `archived column ${c.name} has an unknown collation`);
  return collation === "BINARY" ? type : `${type} COLLATE ${collation}`;
}
const SAFE_TYPE = /^[A-Za-z_][A-Za-z0-9_ ]{0,60}(\(\s*[+-]?\d{1,9}\s*(,\s*[+-]?\d{1,9}\s*)?\))?$/;
/** Words that would make a "type" a constraint: never let them through. */
const NOT_A_TYPE = new Set(
  "CONSTRAINT PRIMARY KEY NOT NULL UNIQUE CHECK DEFAULT COLLATE REFERENCES GENERATED AS ON CONFLICT".split(
    " ",
  ),
);

/** Point each source at its scratch table (a hot table: at the union of it and its scratch table). */
function rewrite(ctx: TieringContext, sql: string, sources: Source[]): string {
  return splice(
    sql,
    sources.map((s) => {
      if (s.ref.kind === "url") return { start: s.ref.start, end: s.ref.end, text: quoteIdent(s.scratch) };
      const hot = tableColumns(ctx.sql, s.ref.ref);
      const cold = hot.map((c) =>
        s.columns.has(c.name.toLowerCase()) ? quoteIdent(c.name) : `NULL AS ${quoteIdent(c.name)}`,
      );
      const text = `(SELECT ${columnList(hot)} FROM ${quoteIdent(s.ref.ref)} UNION ALL SELECT ${cold.join(", ")} FROM ${quoteIdent(s.scratch)})`;
      return {
        start: s.ref.start,
        end: s.ref.end,
        text: s.ref.alias ? text : `${text} AS ${quoteIdent(s.ref.ref)}`,
      };
    }),
  );
}
