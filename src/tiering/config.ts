import { parseDuration } from "../duration";
import { ActorError } from "../errors";
import { PARTITIONS, type Partition } from "./time";

/** What `archive()` takes; also the shape of a scheduled archive in the config. */
export interface ArchiveSpec {
  table: string;
  /** Column holding the row's time as epoch milliseconds (or seconds with `timeUnit: "s"`). */
  timeColumn: string;
  /** Rows strictly older than this are archived: a Date, epoch ms, or an age like "7d". */
  olderThan: Date | number | string;
  partition: Partition;
  /** Key prefix inside the bucket (default: the config's `prefix`, "archive"). */
  prefix?: string;
  timeUnit?: "ms" | "s";
  /**
   * Retention: after archiving, delete this table's archived files whose newest row is older than
   * this age (e.g. "730d"), from R2 and the manifest. Absent: archived files are kept.
   */
  keepFor?: string;
}

/** `defineActor({ tiering })`: every key optional. */
export interface TieringConfig {
  /** R2 binding archives and backups go to (default "ARCHIVE"). */
  binding?: string;
  /** Default key prefix (default "archive"). */
  prefix?: string;
  /**
   * Where the actor's name goes in keys. `"prefix-first"` (default): `<prefix>/<actor>/<table>/…`
   * and `<prefix>/<actor>/_backups/<id>/…`. `"actor-first"`: everything of one actor under its own
   * name, `<actor>/<prefix>/<table>/…` and `<actor>/backups/<id>/…` (Use Case 1's per-tenant layout).
   */
  keys?: "prefix-first" | "actor-first";
  /** Extra names `r2://<name>/…` may use, mapped to binding names (e.g. the bucket's name). */
  buckets?: Record<string, string>;
  /** A cold query refuses (QUERY_TOO_LARGE) past this many rows after pruning (default 2,000,000). */
  maxColdRows?: number;
  /** ... or when one row group would take more than this many bytes to decode (default 64 MiB). */
  maxRowGroupBytes?: number;
  /** Rows per archive file at most (default 20,000); a file also closes at ~8 MB of row data. */
  chunkRows?: number;
  /** Rows per Parquet row group (default 5,000): the unit statistics prune. */
  rowGroupRows?: number;
  /** A put not confirmed within this time counts as failed (default 30 s). */
  putTimeoutMs?: number;
  /** One archive/backup call works at most about this long, then resumes later (default 10 s). */
  stepBudgetMs?: number;
  /** An unfinished archive or backup continues from a schedule after this delay (default 1 s). */
  resumeDelayMs?: number;
  /**
   * Archives run by schedule: `every` is an interval in ms or a cron string (UTC), `olderThan` an
   * age such as "7d". At most one per table.
   */
  archive?: (ArchiveSpec & { olderThan: string; every: number | string })[];
  /** Backups run by schedule, keeping the newest `keep`. */
  backup?: { every: number | string; keep: number };
}

export type ResolvedTiering = Required<
  Pick<
    TieringConfig,
    | "binding"
    | "prefix"
    | "keys"
    | "buckets"
    | "maxColdRows"
    | "maxRowGroupBytes"
    | "chunkRows"
    | "rowGroupRows"
    | "putTimeoutMs"
    | "stepBudgetMs"
    | "resumeDelayMs"
  >
> &
  Pick<TieringConfig, "archive" | "backup">;

/** Keys and prefixes: plain path segments only (no "..", no leading or doubled slashes). */
export const PREFIX_PATTERN = /^[A-Za-z0-9._=-]+(?:\/[A-Za-z0-9._=-]+)*$/;

export function resolveTiering(config: TieringConfig | undefined): ResolvedTiering {
  const c = config ?? {};
  const positive = (name: keyof TieringConfig, value: unknown, fallback: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value <= 0)
      throw new ActorError("INVALID_CONFIG", `tiering.${name} must be a positive integer`);
    return value;
  };
  const prefix = c.prefix ?? "archive";
  if (!PREFIX_PATTERN.test(prefix) || prefix.split("/").includes(".."))
    throw new ActorError("INVALID_CONFIG", "tiering.prefix must be path segments of [A-Za-z0-9._=-]");
  return {
    binding: c.binding ?? "ARCHIVE",
    prefix,
    keys: checkKeys(c.keys),
    buckets: { ...(c.buckets ?? {}) },
    maxColdRows: positive("maxColdRows", c.maxColdRows, 2_000_000),
    maxRowGroupBytes: positive("maxRowGroupBytes", c.maxRowGroupBytes, 64 << 20),
    chunkRows: positive("chunkRows", c.chunkRows, 20_000),
    rowGroupRows: positive("rowGroupRows", c.rowGroupRows, 5_000),
    putTimeoutMs: positive("putTimeoutMs", c.putTimeoutMs, 30_000),
    stepBudgetMs: positive("stepBudgetMs", c.stepBudgetMs, 10_000),
    resumeDelayMs: positive("resumeDelayMs", c.resumeDelayMs, 1_000),
    archive: c.archive?.map(checkScheduledArchive),
    backup: c.backup === undefined ? undefined : checkScheduledBackup(c.backup),
  };
}

function checkKeys(keys: unknown): "prefix-first" | "actor-first" {
  if (keys === undefined) return "prefix-first";
  if (keys === "prefix-first" || keys === "actor-first") return keys;
  throw invalid('tiering.keys must be "prefix-first" or "actor-first"');
}

function invalid(message: string): ActorError {
  return new ActorError("INVALID_CONFIG", message);
}

function checkEvery(every: unknown, what: string): number | string {
  if (
    (typeof every === "number" && Number.isInteger(every) && every > 0) ||
    (typeof every === "string" && every)
  )
    return every;
  throw invalid(`${what}.every must be an interval in ms or a cron string`);
}

function checkScheduledArchive(a: ArchiveSpec & { every: number | string }, i: number, all: unknown[]) {
  const what = `tiering.archive[${i}]`;
  if (!a || typeof a.table !== "string" || typeof a.timeColumn !== "string")
    throw invalid(`${what} needs table and timeColumn`);
  if (!PARTITIONS.includes(a.partition)) throw invalid(`${what}.partition must be hour, day or month`);
  if (typeof a.olderThan !== "string" || parseDuration(a.olderThan) === undefined)
    throw invalid(`${what}.olderThan must be an age like "7d"`);
  if (a.keepFor !== undefined && (typeof a.keepFor !== "string" || parseDuration(a.keepFor) === undefined))
    throw invalid(`${what}.keepFor must be an age like "365d"`);
  if (all.findIndex((b) => (b as ArchiveSpec).table === a.table) !== i)
    throw invalid(`${what}: ${a.table} is listed twice`);
  return { ...a, olderThan: a.olderThan, every: checkEvery(a.every, what) };
}

function checkScheduledBackup(b: { every: number | string; keep: number }) {
  if (!b || !Number.isInteger(b.keep) || b.keep < 1)
    throw invalid("tiering.backup.keep must be a positive integer");
  return { every: checkEvery(b.every, "tiering.backup"), keep: b.keep };
}
