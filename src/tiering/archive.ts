import { quoteIdent } from "../database";
import { ActorError, badInput } from "../errors";
import { listTables } from "../sql/tables";
import type { ArchiveSpec } from "./config";
import { PREFIX_PATTERN } from "./config";
import {
  equalValues,
  keySegment,
  notFound,
  pendingKeys,
  setPendingKeys,
  type TableColumn,
  type TieringContext,
  tableColumns,
} from "./context";
import { contentTag, encodeParquet, keepRawTexts, rowSelect } from "./parquet-write";
import { DETACHED, isInternal, JOBS, MANIFEST } from "./tables";
import { cutoffMs, PARTITIONS, type Partition, partitionOf } from "./time";

export interface ArchiveResult {
  /** True when no row older than the cutoff is left; false when the step budget ran out first. */
  done: boolean;
  rows: number;
  files: number;
  keys: string[];
  /** With `keepFor`: the archived files retention deleted after this run. */
  expired?: string[];
}

/** A validated spec with the cutoff fixed, stored with the job so a resumed run uses the same one. */
export interface ResolvedArchive {
  table: string;
  timeColumn: string;
  partition: Partition;
  timeUnit: "ms" | "s";
  /** In the time column's unit. */
  cutoff: number;
  prefix: string;
}

/** Bytes of row data after which a file is closed even below `chunkRows`. */
const CHUNK_BYTES = 8 << 20;

export function resolveArchive(ctx: TieringContext, input: unknown, now: number): ResolvedArchive {
  if (!input || typeof input !== "object") throw badInput("archive needs a spec object");
  const spec = input as Partial<ArchiveSpec>;
  if (typeof spec.table !== "string" || spec.table.length === 0) throw badInput("table is required");
  const table = spec.table;
  const tables = listTables(ctx.sql).filter((t) => !t.shadow);
  const info = tables.find((t) => t.name === table);
  if (!info || isInternal(table)) {
    const isView = ctx.sql
      .exec("SELECT 1 FROM sqlite_master WHERE type = 'view' AND name = ?", table)
      .toArray();
    if (!isView.length || isInternal(table)) throw notFound(table);
  }
  if (!info || info.virtual || !info.rowid)
    throw new ActorError("ARCHIVE_UNSUPPORTED_TABLE", `${table} is a view, virtual or WITHOUT ROWID table`, {
      table,
    });
  // The table itself included: a parent archived would take its hot children with it.
  const referencing = tables.filter((t) =>
    ctx.sql
      .exec<{ table: string }>('SELECT "table" FROM pragma_foreign_key_list(?)', t.name)
      .toArray()
      .some((fk) => fk.table.toLowerCase() === table.toLowerCase()),
  );
  if (referencing.length)
    throw new ActorError(
      "ARCHIVE_UNSUPPORTED_TABLE",
      `${table} is referenced by foreign keys of ${referencing[0].name}: deleting archived rows would cascade`,
      { table, referencedBy: referencing.map((r) => r.name) },
    );
  if (typeof spec.timeColumn !== "string") throw badInput("timeColumn is required", { field: "timeColumn" });
  const column = tableColumns(ctx.sql, table).find(
    (c) => c.name.toLowerCase() === spec.timeColumn!.toLowerCase(),
  );
  if (!column) throw badInput(`${table} has no column ${spec.timeColumn}`, { field: "timeColumn" });
  if (!PARTITIONS.includes(spec.partition as Partition))
    throw badInput('partition must be "hour", "day" or "month"', { field: "partition" });
  const timeUnit = spec.timeUnit ?? "ms";
  if (timeUnit !== "ms" && timeUnit !== "s")
    throw badInput('timeUnit must be "ms" or "s"', { field: "timeUnit" });
  const prefix = spec.prefix ?? ctx.config.prefix;
  if (typeof prefix !== "string" || !PREFIX_PATTERN.test(prefix) || prefix.split("/").includes(".."))
    throw badInput("prefix must be path segments of [A-Za-z0-9._=-]", { field: "prefix" });
  const cutoff = cutoffMs(spec.olderThan, now);
  return {
    table,
    timeColumn: column.name,
    partition: spec.partition as Partition,
    timeUnit,
    cutoff: timeUnit === "s" ? cutoff / 1000 : cutoff,
    prefix,
  };
}

interface Chunk {
  partition: string;
  lo: number;
  hi: number;
  /**
   * Rows as `[rowid, ...rowSelect]`, the rowid as its digits: a rowid beyond 2^53 would round as a
   * JavaScript number, and the bounds of the delete would then miss the chunk's first or last row.
   */
  rows: unknown[][];
}

/**
 * Archive rows older than the cutoff, one file at a time, until none is left or the step budget
 * is spent. Each file: select a bounded chunk of one partition, write Parquet, record the key as
 * pending, put it, then in one transaction check the rows did not change meanwhile, record the file
 * in the manifest and delete exactly those rows. A failure anywhere leaves the rows in SQLite.
 */
export async function runArchive(ctx: TieringContext, spec: ResolvedArchive): Promise<ArchiveResult> {
  const jobId = `archive:${spec.table}`;
  const now = Date.now();
  ctx.sql.exec(
    `INSERT INTO ${JOBS} (id, kind, spec, state, created_at, updated_at) VALUES (?, 'archive', ?, '{}', ?, ?)
     ON CONFLICT (id) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at`,
    jobId,
    JSON.stringify(spec),
    now,
    now,
  );
  const store = ctx.store();
  const columns = tableColumns(ctx.sql, spec.table);
  const actor = keySegment(ctx.actorName);
  const table = keySegment(spec.table);
  const root =
    ctx.config.keys === "actor-first"
      ? `${actor}/${spec.prefix}/${table}`
      : `${spec.prefix}/${actor}/${table}`;
  const result: ArchiveResult = { done: false, rows: 0, files: 0, keys: [] };
  for (;;) {
    await removeUncommitted(ctx, jobId);
    const chunk = selectChunk(ctx, spec, columns);
    if (!chunk) {
      ctx.sql.exec(`DELETE FROM ${JOBS} WHERE id = ?`, jobId);
      result.done = true;
      return result;
    }
    const bytes = await encodeParquet(
      columns,
      chunk.rows.map((r) => r.slice(1)),
      ctx.config.rowGroupRows,
      { "dosql.table": spec.table, "dosql.timeColumn": spec.timeColumn },
    );
    const first = chunk.rows[0];
    const base = `${root}/${chunk.partition}/${rowidLabel(first[0] as string)}-${await contentTag(bytes)}`;
    const key = unusedKey(ctx, store.binding, base);
    setPendingKeys(ctx.sql, jobId, [...pendingKeys(ctx.sql, jobId), { bucket: store.binding, key }]);
    await store.put(key, bytes);
    if (
      commitChunk(ctx, spec, columns, chunk, jobId, {
        bucket: store.binding,
        key,
        root: `${root}/`,
        size: bytes.byteLength,
      })
    ) {
      result.rows += chunk.rows.length;
      result.files++;
      result.keys.push(key);
    }
    if (Date.now() - now >= ctx.config.stepBudgetMs) return result;
  }
}

/**
 * Delete objects a previous step uploaded but never committed (crash, lost confirmation, changed
 * rows). An attempt takes a key no committed file has (`unusedKey`), but a restore running
 * meanwhile can bring back a manifest that names it: a file committed by then is kept.
 */
async function removeUncommitted(ctx: TieringContext, jobId: string): Promise<void> {
  const pending = pendingKeys(ctx.sql, jobId);
  if (pending.length === 0) return;
  for (const { bucket, key } of pending)
    if (!isCommitted(ctx, bucket, key)) await ctx.store(bucket).delete([key]);
  setPendingKeys(ctx.sql, jobId, []);
}

/** In the manifest, or in the manifest of an older state a restore detached it from. */
function isCommitted(ctx: TieringContext, bucket: string, key: string): boolean {
  return (
    ctx.sql
      .exec(
        `SELECT 1 FROM ${MANIFEST} WHERE bucket = ? AND key = ? UNION ALL SELECT 1 FROM ${DETACHED} WHERE bucket = ? AND key = ?`,
        bucket,
        key,
        bucket,
        key,
      )
      .toArray().length > 0
  );
}

/**
 * `<base>.parquet`, or `<base>-<n>.parquet` when a committed file has that key: the same rows
 * archived again (re-inserted after their archive, they can take the same rowids and make the
 * same bytes). So a committed file is never rewritten and the manifest lists each key once.
 */
function unusedKey(ctx: TieringContext, bucket: string, base: string): string {
  let key = `${base}.parquet`;
  for (let n = 2; isCommitted(ctx, bucket, key); n++) key = `${base}-${n}.parquet`;
  return key;
}

function selectChunk(ctx: TieringContext, spec: ResolvedArchive, columns: TableColumn[]): Chunk | undefined {
  const t = quoteIdent(spec.table);
  const tc = quoteIdent(spec.timeColumn);
  const oldest = ctx.sql.exec(`SELECT min(${tc}) AS m FROM ${t} WHERE ${tc} < ?`, spec.cutoff).one().m;
  if (oldest === null) return undefined;
  const scale = spec.timeUnit === "s" ? 1000 : 1;
  const p = partitionOf(Number(oldest) * scale, spec.partition);
  const lo = p.start / scale;
  const hi = Math.min(p.end / scale, spec.cutoff);
  const rows: unknown[][] = [];
  let bytes = 0;
  const cursor = ctx.sql
    .exec(
      `SELECT ${ROWID_TEXT}, ${rowSelect(columns).list} FROM ${t} WHERE ${tc} >= ? AND ${tc} < ? ORDER BY ${tc}, rowid LIMIT ?`,
      lo,
      hi,
      ctx.config.chunkRows,
    )
    .raw();
  // Read the cursor to its end even past the byte budget: an unfinished statement blocks later
  // DROP TABLEs (SQLITE_LOCKED) until it is garbage collected.
  for (const row of cursor) if (bytes < CHUNK_BYTES) bytes += addRow(rows, row);
  keepRawTexts(ctx.sql, spec.table, columns, rows);
  return { partition: p.label, lo, hi, rows };
}

function commitChunk(
  ctx: TieringContext,
  spec: ResolvedArchive,
  columns: TableColumn[],
  chunk: Chunk,
  jobId: string,
  file: { bucket: string; key: string; root: string; size: number },
): boolean {
  const t = quoteIdent(spec.table);
  const tc = quoteIdent(spec.timeColumn);
  const timeAt = 1 + columns.findIndex((c) => c.name === spec.timeColumn);
  const first = chunk.rows[0];
  const last = chunk.rows[chunk.rows.length - 1];
  const where = `${tc} >= ? AND ${tc} < ? AND (${tc}, rowid) >= (?, ?) AND (${tc}, rowid) <= (?, ?)`;
  const bounds = [chunk.lo, chunk.hi, first[timeAt], first[0], last[timeAt], last[0]] as SqlStorageValue[];
  // The actor's transaction: under history the deletes below are one transaction of their own.
  return ctx.transaction(() => {
    const now = Array.from(
      ctx.sql
        .exec(
          `SELECT ${ROWID_TEXT}, ${rowSelect(columns).list} FROM ${t} WHERE ${where} ORDER BY ${tc}, rowid`,
          ...bounds,
        )
        .raw(),
    );
    keepRawTexts(ctx.sql, spec.table, columns, now);
    // Rows written, updated or deleted while the put was in flight: the file is stale. Leave the
    // rows; the key stays pending and is removed before the next attempt. (Compared with the
    // digits of big integers, so a change JavaScript numbers would round away is seen too.)
    if (
      now.length !== chunk.rows.length ||
      !now.every((row, i) => row.every((v, j) => equalValues(v, chunk.rows[i][j])))
    )
      return false;
    ctx.sql.exec(
      `INSERT INTO ${MANIFEST} (bucket, key, root, tbl, time_column, partition, min_time, max_time, row_count, byte_size, first_rowid, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      file.bucket,
      file.key,
      file.root,
      spec.table,
      spec.timeColumn,
      chunk.partition,
      first[timeAt] as number,
      last[timeAt] as number,
      chunk.rows.length,
      file.size,
      first[0] as string,
      Date.now(),
    );
    ctx.sql.exec(`DELETE FROM ${t} WHERE ${where}`, ...bounds);
    const deleted = Number(ctx.sql.exec("SELECT changes() AS n").one().n);
    if (deleted < chunk.rows.length)
      throw new ActorError(
        "INTERNAL",
        `archive deleted ${deleted} of ${chunk.rows.length} rows; rolled back`,
      );
    const remaining = pendingKeys(ctx.sql, jobId).filter(
      (p) => p.key !== file.key || p.bucket !== file.bucket,
    );
    setPendingKeys(ctx.sql, jobId, remaining);
    return true;
  });
}

/** Keep a row; returns its approximate size in bytes. */
export function addRow(rows: unknown[][], row: unknown[]): number {
  rows.push(row);
  let bytes = 0;
  for (const v of row)
    bytes += typeof v === "string" ? v.length : v instanceof ArrayBuffer ? v.byteLength : 8;
  return bytes;
}

/** The rowid's digits, zero-padded so keys sort by first rowid. */
function rowidLabel(rowid: string): string {
  return rowid.startsWith("-") ? `n${rowid.slice(1).padStart(19, "0")}` : rowid.padStart(19, "0");
}

const ROWID_TEXT = "CAST(rowid AS TEXT)";
