import { dropScratchLeftovers, SCRATCH_PREFIX } from "../sql/scratch";
import { dropTablesWithPrefix } from "../sql/tables";

/**
 * Tiering's own tables. The manifest is part of the actor's data (a backup carries it, so a
 * restored actor knows which files hold its older rows); jobs and the backup list are bookkeeping
 * that must survive a restore unchanged, so backups leave them out.
 */
export const MANIFEST = "_dosql_archive_manifest";
export const JOBS = "_dosql_tiering_jobs";
export const BACKUPS = "_dosql_tiering_backups";
/**
 * Archived files a restore took out of the manifest (the backup predates them): no cold query
 * reads them, but their rows are still in R2 (and another backup's manifest may name them), so
 * retention deletes them when it would have deleted them from the manifest. Bookkeeping, like the
 * jobs: a restore never puts it back.
 */
export const DETACHED = "_dosql_tiering_detached";
/** Per-restore staging tables (and the per-query scratch tables of src/sql/scratch.ts): never outlive a call. */
export const STAGE_PREFIX = "_dosql_stage_";
/** Snapshot copies a running backup uploads from; dropped when the backup completes. */
export const SNAPSHOT_PREFIX = "_dosql_snap_";

/** Tables a backup never contains (and a restore never touches). */
const NOT_BACKED_UP = [
  "sqlite_",
  "_cf_",
  "_dosql_tiering_",
  SCRATCH_PREFIX,
  STAGE_PREFIX,
  SNAPSHOT_PREFIX,
  "_dosql_hold_",
  "_dosql_schedule",
  // The forwards' state (src/forward/state.ts): when this storage began, active or parked, what each
  // target accepted. It goes with the forwards' acknowledged LSNs, which history keeps through a
  // restore, and with the targets, which a restore does not touch: a restore keeps the present one.
  "_dosql_forward",
];

export function isBackedUp(table: string): boolean {
  return !NOT_BACKED_UP.some((p) => table.startsWith(p));
}

/** Tables that are framework state rather than the actor's data (never archived). */
export function isInternal(table: string): boolean {
  return table.startsWith("_dosql_") || table.startsWith("_cf_") || table.startsWith("sqlite_");
}

export function createTieringTables(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS ${MANIFEST} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    root TEXT NOT NULL,
    tbl TEXT NOT NULL,
    time_column TEXT NOT NULL,
    partition TEXT NOT NULL,
    min_time REAL NOT NULL,
    max_time REAL NOT NULL,
    row_count INTEGER NOT NULL,
    byte_size INTEGER NOT NULL,
    first_rowid INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (bucket, key)
  )`);
  sql.exec(`CREATE INDEX IF NOT EXISTS ${MANIFEST}_by_table ON ${MANIFEST} (tbl, min_time)`);
  sql.exec(`CREATE INDEX IF NOT EXISTS ${MANIFEST}_by_root ON ${MANIFEST} (bucket, root)`);
  sql.exec(`CREATE TABLE IF NOT EXISTS ${JOBS} (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    spec TEXT NOT NULL,
    state TEXT NOT NULL,
    pending_keys TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  )`);
  createDetachedTable(sql);
  sql.exec(`CREATE TABLE IF NOT EXISTS ${BACKUPS} (
    key TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    tables INTEGER NOT NULL,
    row_count INTEGER NOT NULL,
    byte_size INTEGER NOT NULL
  )`);
}

export function createDetachedTable(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS ${DETACHED} (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    tbl TEXT NOT NULL,
    max_time REAL NOT NULL,
    PRIMARY KEY (bucket, key)
  ) WITHOUT ROWID`);
}

/**
 * Scratch and staging tables left by an isolate that died mid-call. Only safe to call before this
 * instance starts any cold query or restore of its own (tiering does it once, on first use).
 */
export function dropLeftovers(storage: DurableObjectStorage): void {
  dropScratchLeftovers(storage);
  dropTablesWithPrefix(storage.sql, STAGE_PREFIX);
}
