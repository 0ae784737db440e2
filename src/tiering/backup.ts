import { quoteIdent } from "../database";
import { ActorError, badInput } from "../errors";
import { TRIGGER_PREFIX } from "../history/store";
import { BulkInserter } from "../sql/bulk-insert";
import { listTables, type TableEntry, tableExists } from "../sql/tables";
import { isKeyword, significant, tokenize } from "../sql/tokens";
import { addRow } from "./archive";
import { type BackupManifest, parseBackupManifest } from "./backup-format";
import { columnList, keySegment, type TieringContext, tableColumns } from "./context";
import { readRange, scanFile } from "./parquet-read";
import { type ColumnDecl, encodeParquet, keepRawTexts, rowSelect } from "./parquet-write";
import type { ArchiveStore } from "./r2-store";
import {
  BACKUPS,
  createDetachedTable,
  DETACHED,
  isBackedUp,
  JOBS,
  MANIFEST,
  SNAPSHOT_PREFIX,
  STAGE_PREFIX,
} from "./tables";

ActorError.defineStatus("BACKUP_CORRUPT", 500);

export interface BackupResult {
  /** Key of the backup's `backup.json`: what `restoreFromBackup` takes. */
  key: string;
  /** False when the step budget ran out: the next `backup()` (or scheduled step) resumes it. */
  done: boolean;
  tables: number;
  rows: number;
  bytes: number;
}

/**
 * How a restore runs under history (SqlActor passes history's, see src/history/backup-restore.ts):
 * tables it keeps as they are, and what it does inside the restore's transaction around the swap.
 * Without them the restore replaces every table. History's own triggers are never taken from a
 * backup: history installs them.
 */
export interface RestoreHooks {
  keeps(table: string): boolean;
  before(): void;
  after(): void;
}

export interface RestoreResult {
  key: string;
  tables: number;
  rows: number;
  schemaVersion: string | null;
  walLsn: number | null;
}

interface BackupState {
  bucket: string;
  root: string;
  keep?: number;
  manifest: BackupManifest;
  /** Snapshot table of each table, same order as manifest.tables. */
  snaps: string[];
  /** Table being uploaded, and the last snapshot rowid already in R2. */
  current: number;
  after: number;
  bytes: number;
}

const JOB_ID = "backup";
const PART_BYTES = 8 << 20;
const ROWID = "_dosql_rowid";

/**
 * Back up the whole database to R2, resumably. The first step copies every table into snapshot
 * tables in one synchronous transaction: that is the consistent point (no write can land in the
 * middle), and it lets the upload take as many bounded steps as it needs while the actor keeps
 * serving writes. Each step uploads one part and records its progress in the same write that
 * follows the confirmed put, so a resumed step neither skips nor repeats a row. `backup.json`
 * goes last: a backup without it is incomplete and never restored.
 */
export async function runBackup(ctx: TieringContext, keep?: number): Promise<BackupResult> {
  if (keep !== undefined && (!Number.isInteger(keep) || keep < 1))
    throw badInput("keep must be a positive integer", { field: "keep" });
  const started = Date.now();
  const state = loadState(ctx) ?? snapshot(ctx, keep);
  const store = ctx.store(state.bucket);
  const key = `${state.root}/backup.json`;
  const summary = () => ({
    key,
    tables: state.manifest.tables.length,
    rows: state.manifest.tables.reduce((n, t) => n + t.rows, 0),
    bytes: state.bytes,
  });
  while (state.current < state.manifest.tables.length) {
    if (Date.now() - started >= ctx.config.stepBudgetMs) return { ...summary(), done: false };
    await uploadPart(ctx, store, state);
  }
  const text = JSON.stringify(state.manifest);
  await store.put(key, text, { kind: "dosql-backup" });
  ctx.storage.transactionSync(() => {
    for (const snap of state.snaps) ctx.sql.exec(`DROP TABLE IF EXISTS ${quoteIdent(snap)}`);
    ctx.sql.exec(`DELETE FROM ${JOBS} WHERE id = ?`, JOB_ID);
    ctx.sql.exec(
      `INSERT OR REPLACE INTO ${BACKUPS} (key, bucket, created_at, tables, row_count, byte_size) VALUES (?, ?, ?, ?, ?, ?)`,
      key,
      state.bucket,
      state.manifest.createdAt,
      summary().tables,
      summary().rows,
      state.bytes + text.length,
    );
  });
  const retain = state.keep ?? keep;
  if (retain) await pruneBackups(ctx, retain);
  return { ...summary(), done: true };
}

/** Backups this actor made, newest first. */
export function listBackups(
  ctx: TieringContext,
): { key: string; bucket: string; createdAt: number; tables: number; rows: number; bytes: number }[] {
  return ctx.sql
    .exec<{
      key: string;
      bucket: string;
      created_at: number;
      tables: number;
      row_count: number;
      byte_size: number;
    }>(`SELECT * FROM ${BACKUPS} ORDER BY created_at DESC, key DESC`)
    .toArray()
    .map((r) => ({
      key: r.key,
      bucket: r.bucket,
      createdAt: r.created_at,
      tables: r.tables,
      rows: r.row_count,
      bytes: r.byte_size,
    }));
}

/** Delete every backup but the newest `keep` (all their objects, then their row). */
export async function pruneBackups(ctx: TieringContext, keep: number): Promise<string[]> {
  const old = listBackups(ctx).slice(keep);
  for (const b of old) {
    const store = ctx.store(b.bucket);
    const root = b.key.slice(0, -"backup.json".length);
    // backup.json first: a half-deleted backup is then already "not a backup".
    await store.delete([b.key]);
    await store.delete((await store.list(root)).map((o) => o.key));
    ctx.sql.exec(`DELETE FROM ${BACKUPS} WHERE key = ?`, b.key);
  }
  return old.map((b) => b.key);
}

function loadState(ctx: TieringContext): BackupState | undefined {
  const row = ctx.sql.exec<{ state: string }>(`SELECT state FROM ${JOBS} WHERE id = ?`, JOB_ID).toArray()[0];
  return row ? (JSON.parse(row.state) as BackupState) : undefined;
}

function saveState(ctx: TieringContext, state: BackupState): void {
  ctx.sql.exec(
    `UPDATE ${JOBS} SET state = ?, updated_at = ? WHERE id = ?`,
    JSON.stringify(state),
    Date.now(),
    JOB_ID,
  );
}

function backedUpTables(sql: SqlStorage): TableEntry[] {
  return listTables(sql).filter((t) => !t.shadow && isBackedUp(t.name));
}

function snapshot(ctx: TieringContext, keep: number | undefined): BackupState {
  const sql = ctx.sql;
  const createdAt = Date.now();
  // Sortable by time; the random tail keeps two backups in the same millisecond apart.
  const id = `${new Date(createdAt).toISOString().replace(/[-:.]/g, "")}-${crypto.randomUUID().slice(0, 8)}`;
  const actor = keySegment(ctx.actorName);
  const root =
    ctx.config.keys === "actor-first"
      ? `${actor}/backups/${id}`
      : `${ctx.config.prefix}/${actor}/_backups/${id}`;
  return ctx.storage.transactionSync(() => {
    const tables = backedUpTables(sql);
    const names = new Set(tables.map((t) => t.name));
    const snaps: string[] = [];
    const manifestTables: BackupManifest["tables"] = tables.map((t, i) => {
      const columns = tableColumns(sql, t.name)
        .filter((c) => !c.generated)
        .map((c) => ({ name: c.name, type: c.type }));
      const rowid = !t.virtual && t.rowid;
      const snap = `${SNAPSHOT_PREFIX}${id}_${i}`;
      snaps.push(snap);
      sql.exec(
        `CREATE TABLE ${quoteIdent(snap)} AS SELECT ${rowid ? `rowid AS ${ROWID}, ` : ""}${columnList(columns)} FROM ${quoteIdent(t.name)}`,
      );
      const rows = Number(sql.exec(`SELECT count(*) AS n FROM ${quoteIdent(snap)}`).one().n);
      return { name: t.name, rowid, columns, rows, parts: [] };
    });
    const schema = sql
      .exec<{ type: string; name: string; tbl: string; sql: string }>(
        "SELECT type, name, tbl_name AS tbl, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid",
      )
      .toArray();
    // A trigger on a backed-up view (INSTEAD OF) goes with the view, as an index goes with its table.
    const views = new Set(schema.filter((o) => o.type === "view" && isBackedUp(o.name)).map((o) => o.name));
    const objects = schema.filter((o) =>
      o.type === "view" ? views.has(o.name) : names.has(o.tbl) || views.has(o.tbl),
    );
    const sequences = tableExists(sql, "sqlite_sequence")
      ? sql
          .exec<{ name: string; seq: number; digits: string }>(
            "SELECT name, seq, CAST(seq AS TEXT) AS digits FROM sqlite_sequence",
          )
          .toArray()
          .filter((s) => names.has(s.name))
          .map((s) => ({ name: s.name, seq: Number.isSafeInteger(s.seq) ? s.seq : s.digits }))
      : [];
    const state: BackupState = {
      bucket: ctx.store().binding,
      root,
      keep,
      manifest: {
        format: 1,
        actor: ctx.actorName,
        createdAt,
        schemaVersion: names.has("_dosql_migrations")
          ? ((sql.exec("SELECT tag FROM _dosql_migrations ORDER BY idx DESC LIMIT 1").toArray()[0]
              ?.tag as string) ?? null)
          : null,
        walLsn: walPosition(sql, tables),
        objects,
        tables: manifestTables,
        sequences,
      },
      snaps,
      current: 0,
      after: 0,
      bytes: 0,
    };
    sql.exec(
      `INSERT INTO ${JOBS} (id, kind, spec, state, created_at, updated_at) VALUES (?, 'backup', '{}', ?, ?, ?)`,
      JOB_ID,
      JSON.stringify(state),
      createdAt,
      createdAt,
    );
    return state;
  });
}

/** The history WAL's highest LSN (a framework table with an `lsn` column), or null. */
function walPosition(sql: SqlStorage, tables: TableEntry[]): number | null {
  for (const t of tables) {
    if (!t.name.startsWith("_dosql_")) continue;
    if (!tableColumns(sql, t.name).some((c) => c.name === "lsn")) continue;
    const lsn = sql.exec(`SELECT max(lsn) AS l FROM ${quoteIdent(t.name)}`).one().l;
    return lsn === null ? null : Number(lsn);
  }
  return null;
}

async function uploadPart(ctx: TieringContext, store: ArchiveStore, state: BackupState): Promise<void> {
  const table = state.manifest.tables[state.current];
  const snap = state.snaps[state.current];
  const rows: unknown[][] = [];
  let bytes = 0;
  const columns: ColumnDecl[] = table.rowid
    ? [{ name: ROWID, type: "INTEGER" }, ...table.columns]
    : table.columns;
  const cursor = ctx.sql
    .exec(
      `SELECT rowid, ${rowSelect(columns).list} FROM ${quoteIdent(snap)} WHERE rowid > ? ORDER BY rowid LIMIT ?`,
      state.after,
      ctx.config.chunkRows,
    )
    .raw();
  // Drained to the end (see archive.ts selectChunk); rows past the byte budget go in the next part.
  for (const row of cursor) if (bytes < PART_BYTES) bytes += addRow(rows, row);
  keepRawTexts(ctx.sql, snap, columns, rows);
  const last = rows.length < ctx.config.chunkRows && bytes < PART_BYTES;
  if (rows.length > 0) {
    const file = await encodeParquet(
      columns,
      rows.map((r) => r.slice(1)),
      ctx.config.rowGroupRows,
    );
    const key = `${state.root}/${String(state.current).padStart(4, "0")}-${keySegment(table.name)}/${String(table.parts.length).padStart(6, "0")}.parquet`;
    await store.put(key, file);
    table.parts.push({ key, rows: rows.length, size: file.byteLength });
    state.after = rows[rows.length - 1][0] as number;
    state.bytes += file.byteLength;
  }
  ctx.storage.transactionSync(() => {
    if (last) {
      ctx.sql.exec(`DROP TABLE IF EXISTS ${quoteIdent(snap)}`);
      state.current++;
      state.after = 0;
    }
    saveState(ctx, state);
  });
}

const KEY_PATTERN = /^[A-Za-z0-9._=%-]+(?:\/[A-Za-z0-9._=%-]+)*\/backup\.json$/;

/**
 * Replace the actor's data with a backup, atomically. Parts are read one at a time into staging
 * tables (memory stays at one part); then a single synchronous transaction drops the current
 * tables, recreates the backup's schema, copies the staged rows in (rowids and AUTOINCREMENT
 * counters included), recreates indexes, views and triggers, runs `migrate` (the actor's pending
 * migrations over the backup's schema), and drops the staging tables. Any failure before that
 * transaction commits, a migration the restored rows refuse included, leaves the actor exactly as
 * it was.
 */
export async function restoreBackup(
  ctx: TieringContext,
  key: unknown,
  bucketName?: unknown,
  hooks?: () => RestoreHooks | undefined,
  migrate?: () => void,
): Promise<RestoreResult> {
  if (typeof key !== "string" || !KEY_PATTERN.test(key) || key.split("/").includes(".."))
    throw badInput("key must be the key of a backup's backup.json", { field: "key" });
  if (bucketName !== undefined && typeof bucketName !== "string") throw badInput("bucket must be a string");
  const store = ctx.store(bucketName === undefined ? undefined : ctx.bindingOf(bucketName));
  const body = await store.get(key);
  if (!body) throw new ActorError("BACKUP_NOT_FOUND", `no backup at ${key}`, { key });
  const manifest = parseBackupManifest(new TextDecoder().decode(body), key);
  const under = hooks?.();
  const keeps = (table: string) => under?.keeps(table) ?? false;
  const stages: string[] = [];
  const run = `${STAGE_PREFIX}${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  try {
    for (const [i, table] of manifest.tables.entries()) {
      const stage = `${run}_${i}`;
      stages.push(stage);
      if (keeps(table.name)) continue;
      const columns = table.rowid
        ? [ROWID, ...table.columns.map((c) => c.name)]
        : table.columns.map((c) => c.name);
      ctx.sql.exec(`CREATE TABLE ${quoteIdent(stage)} (${columns.map(quoteIdent).join(", ")})`);
      let loaded = 0;
      for (const part of table.parts) {
        const file = await store.get(part.key);
        if (!file)
          throw new ActorError("BACKUP_CORRUPT", `backup part ${part.key} is missing`, { key: part.key });
        const scan = await scanFile(file, []);
        const inserter = new BulkInserter(ctx.sql, stage, scan.columns);
        for (const range of scan.scan.ranges)
          inserter.addColumns(await readRange(scan, range.rowStart, range.rowEnd));
        inserter.flush();
        if (inserter.rows !== part.rows)
          throw new ActorError(
            "BACKUP_CORRUPT",
            `backup part ${part.key} holds ${inserter.rows} rows, not ${part.rows}`,
          );
        loaded += inserter.rows;
      }
      if (loaded !== table.rows)
        throw new ActorError(
          "BACKUP_CORRUPT",
          `backup of ${table.name} holds ${loaded} rows, not ${table.rows}`,
        );
    }
    // Validate every schema entry before anything is dropped.
    for (const o of manifest.objects) oneCreate(o);
    ctx.storage.transactionSync(() => {
      under?.before();
      const archived = manifestFiles(ctx.sql);
      swapIn(ctx.sql, manifest, stages, keeps);
      detach(ctx.sql, archived);
      under?.after();
      migrate?.();
    });
  } finally {
    for (const stage of stages) ctx.sql.exec(`DROP TABLE IF EXISTS ${quoteIdent(stage)}`);
  }
  return {
    key,
    tables: manifest.tables.length,
    rows: manifest.tables.reduce((n, t) => n + t.rows, 0),
    schemaVersion: manifest.schemaVersion,
    walLsn: manifest.walLsn,
  };
}

type ArchivedFile = { bucket: string; key: string; tbl: string; max_time: number };

/** The archived files the manifest lists now (none when there is no manifest). */
function manifestFiles(sql: SqlStorage): ArchivedFile[] {
  if (!tableExists(sql, MANIFEST)) return [];
  return sql.exec<ArchivedFile>(`SELECT bucket, key, tbl, max_time FROM ${MANIFEST}`).toArray();
}

/**
 * After the swap: files the manifest listed before the restore and the restored one does not are
 * remembered for retention (retention.ts), and files the restored manifest lists again are its own.
 */
function detach(sql: SqlStorage, before: ArchivedFile[]): void {
  createDetachedTable(sql);
  for (const f of before)
    sql.exec(
      `INSERT OR IGNORE INTO ${DETACHED} (bucket, key, tbl, max_time) VALUES (?, ?, ?, ?)`,
      f.bucket,
      f.key,
      f.tbl,
      f.max_time,
    );
  if (tableExists(sql, MANIFEST))
    sql.exec(
      `DELETE FROM ${DETACHED} WHERE EXISTS (SELECT 1 FROM ${MANIFEST} m WHERE m.bucket = ${DETACHED}.bucket AND m.key = ${DETACHED}.key)`,
    );
}

function swapIn(
  sql: SqlStorage,
  manifest: BackupManifest,
  stages: string[],
  keeps: (table: string) => boolean,
): void {
  // Parents and children are dropped and refilled in one transaction: check foreign keys at commit.
  sql.exec("PRAGMA defer_foreign_keys = ON");
  for (const { name } of sql
    .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'view'")
    .toArray()
    .filter((v) => isBackedUp(v.name)))
    sql.exec(`DROP VIEW ${quoteIdent(name)}`);
  for (const t of backedUpTables(sql))
    if (!keeps(t.name)) sql.exec(`DROP TABLE IF EXISTS ${quoteIdent(t.name)}`);
  const objects = manifest.objects.filter((o) => !keeps(o.tbl) && !o.name.startsWith(TRIGGER_PREFIX));
  for (const o of objects) if (o.type === "table") sql.exec(oneCreate(o));
  manifest.tables.forEach((table, i) => {
    if (keeps(table.name)) return;
    const live = new Set(
      tableColumns(sql, table.name)
        .filter((c) => !c.generated)
        .map((c) => c.name),
    );
    const cols = table.columns.filter((c) => live.has(c.name));
    const withRowid = table.rowid && !hasRowidAlias(sql, table.name);
    const target = (
      withRowid ? ["rowid", ...cols.map((c) => quoteIdent(c.name))] : cols.map((c) => quoteIdent(c.name))
    ).join(", ");
    const source = (
      withRowid ? [ROWID, ...cols.map((c) => quoteIdent(c.name))] : cols.map((c) => quoteIdent(c.name))
    ).join(", ");
    sql.exec(
      `INSERT INTO ${quoteIdent(table.name)} (${target}) SELECT ${source} FROM ${quoteIdent(stages[i])}${table.rowid ? ` ORDER BY ${ROWID}` : ""}`,
    );
  });
  if (manifest.sequences.length) {
    for (const s of manifest.sequences) {
      if (keeps(s.name)) continue;
      sql.exec("DELETE FROM sqlite_sequence WHERE name = ?", s.name);
      sql.exec("INSERT INTO sqlite_sequence (name, seq) VALUES (?, CAST(? AS INTEGER))", s.name, s.seq);
    }
  }
  for (const o of objects) if (o.type !== "table") sql.exec(oneCreate(o));
}

/**
 * The schema SQL of a backup runs as written, so check it is one CREATE statement of the kind it
 * claims (a trigger's body may hold `;` between BEGIN and END): a tampered backup.json cannot
 * smuggle other statements in.
 */
function oneCreate(o: BackupManifest["objects"][number]): string {
  const tokens = significant(tokenize(o.sql));
  const kind = o.type.toUpperCase();
  const [create, second, third] = tokens.slice(0, 3).map((t) => t.text.toUpperCase());
  const ok =
    ["TABLE", "INDEX", "VIEW", "TRIGGER"].includes(kind) &&
    create === "CREATE" &&
    (second === kind ||
      (second === "UNIQUE" && kind === "INDEX" && third === kind) ||
      (second === "VIRTUAL" && kind === "TABLE" && third === kind));
  // In a trigger's body (BEGIN … END) `;` separates statements, and END also closes CASE.
  let inBody = false;
  let cases = 0;
  const stray = tokens.some((t, i) => {
    if (kind === "TRIGGER" && !inBody && isKeyword(t, "BEGIN")) inBody = true;
    else if (inBody && isKeyword(t, "CASE")) cases++;
    else if (inBody && isKeyword(t, "END")) {
      if (cases > 0) cases--;
      else inBody = false;
    }
    return t.text === ";" && t.depth === 0 && !inBody && i < tokens.length - 1;
  });
  if (!ok || stray)
    throw new ActorError("BACKUP_CORRUPT", `backup schema entry ${o.name} is not a single CREATE ${kind}`);
  return o.sql;
}

/** An `INTEGER PRIMARY KEY` column is the rowid: inserting both would name it twice. */
function hasRowidAlias(sql: SqlStorage, table: string): boolean {
  const pk = sql
    .exec<{ type: string }>("SELECT type FROM pragma_table_info(?) WHERE pk > 0", table)
    .toArray();
  return pk.length === 1 && pk[0].type.toUpperCase() === "INTEGER";
}
