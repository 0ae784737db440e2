import { ActorError } from "../errors";
import type { SourceReader } from "../sql/scratch";
import { type ArchiveResult, resolveArchive, runArchive } from "./archive";
import {
  type BackupResult,
  listBackups,
  pruneBackups,
  type RestoreHooks,
  type RestoreResult,
  restoreBackup,
  runBackup,
} from "./backup";
import { archiveReader, coldQuery, explainCold, type SourcePlan } from "./cold-query";
import { type ArchiveSpec, type ResolvedTiering, resolveTiering, type TieringConfig } from "./config";
import type { TieringContext } from "./context";
import { ArchiveStore } from "./r2-store";
import { expireArchive, finishExpire, keepForMs } from "./retention";
import type { TieringTask } from "./schedules";
import { createTieringTables, dropLeftovers, JOBS, MANIFEST } from "./tables";
import { cutoffMs } from "./time";

export interface TieringOptions {
  storage: DurableObjectStorage;
  env: object;
  actorName: string;
  config: TieringConfig | undefined;
  /** The actor's parameterised query. */
  query<T>(sql: string, params?: readonly unknown[]): T[];
  /** Throws when the actor cannot serve (failed migration). */
  assertReady(): void;
  /**
   * The actor's transaction (history's hooks included), for writes that delete archived rows, and
   * how to tell it that raw `ctx.storage.sql` writes inside wrote rows. Without it (no actor), a
   * plain `transactionSync`.
   */
  transaction?<T>(fn: () => T): T;
  markWritten?(): void;
  /** How a restore runs under history (the tables it keeps, its work around the swap), if on. */
  restoreHooks?(): RestoreHooks | undefined;
  /**
   * Called inside the restore's transaction, right after the swap: the actor re-applies its
   * migrations to the backup's schema. A failure there rolls the whole restore back, so a backup
   * the deployed migrations cannot bring up to date leaves the actor as it was.
   */
  afterRestore?(): void;
  /** Called when an archive or backup stopped at its step budget: book a `{ resume: true }` run. */
  scheduleResume?(): void;
}

export interface ManifestEntry {
  bucket: string;
  key: string;
  table: string;
  timeColumn: string;
  partition: string;
  minTime: number;
  maxTime: number;
  rows: number;
  bytes: number;
}

/**
 * Hot/cold tiering of one actor: archive old rows to R2 as Parquet, query them back with SQL,
 * back up and restore the whole database. Wired into SqlActor as `this.tiering`.
 */
export class Tiering {
  readonly config: ResolvedTiering;
  readonly #options: TieringOptions;
  readonly #ctx: TieringContext;
  readonly #stores = new Map<string, ArchiveStore>();
  readonly #locks = new Map<string, Promise<unknown>>();
  #ready = false;

  constructor(options: TieringOptions) {
    this.#options = options;
    this.config = resolveTiering(options.config);
    this.#ctx = {
      storage: options.storage,
      sql: options.storage.sql,
      config: this.config,
      actorName: options.actorName,
      store: (binding) => this.store(binding),
      bindingOf: (name) => this.config.buckets[name] ?? name,
      query: (sql, params) => options.query(sql, params),
      transaction: (fn) => {
        if (!options.transaction) return options.storage.transactionSync(fn);
        return options.transaction(() => {
          const result = fn();
          options.markWritten?.();
          return result;
        });
      },
    };
  }

  /** The framework's wrapper of an R2 binding (default: the configured one). Tests set its `hooks`. */
  store(binding: string = this.config.binding): ArchiveStore {
    let store = this.#stores.get(binding);
    if (!store) {
      const bucket = (this.#options.env as Record<string, unknown>)[binding];
      if (!isBucket(bucket))
        throw new ActorError("UNKNOWN_BUCKET", `no R2 binding named ${binding}`, { bucket: binding });
      store = new ArchiveStore(bucket, binding, this.config.putTimeoutMs);
      this.#stores.set(binding, store);
    }
    return store;
  }

  /**
   * Move rows older than the cutoff to R2 (see archive.ts). Returns when none is left or the step
   * budget is spent (`done: false`: call again, or let the schedule resume it).
   */
  async archive(spec: ArchiveSpec): Promise<ArchiveResult> {
    this.#begin();
    const now = Date.now();
    const resolved = resolveArchive(this.#ctx, spec, now);
    const keepFor = spec.keepFor === undefined ? undefined : keepForMs(spec.keepFor);
    const result = await this.#exclusive(`archive:${resolved.table}`, () => runArchive(this.#ctx, resolved));
    if (keepFor !== undefined)
      result.expired = await this.#expire(resolved.table, now - keepFor, resolved.timeUnit);
    return this.#unfinished(result);
  }

  /**
   * Retention (see retention.ts): delete the archived files of `table` whose newest row is older
   * than `olderThan` (a Date, epoch ms, or an age like "365d"). Returns the keys deleted.
   */
  async expireArchive(spec: {
    table: string;
    olderThan: Date | number | string;
    timeUnit?: "ms" | "s";
  }): Promise<{ keys: string[] }> {
    this.#begin();
    if (!spec || typeof spec.table !== "string" || spec.table.length === 0)
      throw new ActorError("VALIDATION_FAILED", "table is required");
    const unit = spec.timeUnit ?? "ms";
    if (unit !== "ms" && unit !== "s")
      throw new ActorError("VALIDATION_FAILED", 'timeUnit must be "ms" or "s"');
    return { keys: await this.#expire(spec.table, cutoffMs(spec.olderThan, Date.now()), unit) };
  }

  #expire(table: string, beforeMs: number, unit: "ms" | "s"): Promise<string[]> {
    const before = unit === "s" ? beforeMs / 1000 : beforeMs;
    return this.#exclusive(`expire:${table}`, () => expireArchive(this.#ctx, table, before));
  }

  /**
   * Run SQL reading `'r2://<bucket>/<path>*.parquet'` sources (and hot tables). `readers`: other
   * parts' readers for the references the archive does not read (SqlActor passes every part's).
   */
  async query<T = Record<string, SqlStorageValue>>(
    sql: string,
    params: readonly unknown[] = [],
    readers: readonly SourceReader[] = [],
  ): Promise<T[]> {
    this.#begin();
    return coldQuery<T>(this.#ctx, sql, params, undefined, readers);
  }

  /** The archive's reader (`r2://…*.parquet`), for a statement another part runs. */
  reader(): SourceReader {
    const reader = archiveReader(this.#ctx);
    return {
      ...reader,
      open: (ref, params, run) => {
        this.#begin();
        return reader.open(ref, params, run);
      },
    };
  }

  /**
   * Run SQL over a hot table together with its archived rows: every FROM/JOIN reference to `table`
   * reads both. Rows archived while the query runs are counted once.
   */
  async unionQuery<T = Record<string, SqlStorageValue>>(
    table: string,
    sql: string,
    params: readonly unknown[] = [],
  ): Promise<T[]> {
    this.#begin();
    if (typeof table !== "string" || table.length === 0)
      throw new ActorError("VALIDATION_FAILED", "table must be a table name");
    return coldQuery<T>(this.#ctx, sql, params, table);
  }

  /** Which files and row groups a cold query (or unionQuery, with `union`) would read, without reading rows. */
  async explain(sql: string, params: readonly unknown[] = [], union?: string): Promise<SourcePlan[]> {
    this.#begin();
    return explainCold(this.#ctx, sql, params, union);
  }

  /** Archived files of this actor (optionally of one table), oldest first. */
  manifest(table?: string): ManifestEntry[] {
    this.#begin();
    return this.#ctx.sql
      .exec<Record<string, number & string>>(
        `SELECT * FROM ${MANIFEST} ${table === undefined ? "" : "WHERE tbl = ?"} ORDER BY min_time, id`,
        ...(table === undefined ? [] : [table]),
      )
      .toArray()
      .map((r) => ({
        bucket: r.bucket,
        key: r.key,
        table: r.tbl,
        timeColumn: r.time_column,
        partition: r.partition,
        minTime: r.min_time,
        maxTime: r.max_time,
        rows: r.row_count,
        bytes: r.byte_size,
      }));
  }

  /** Snapshot the whole database to R2 (resumable in steps); `keep` prunes older backups when done. */
  async backup(options: { keep?: number } = {}): Promise<BackupResult> {
    this.#begin();
    return this.#unfinished(await this.#exclusive("backup", () => runBackup(this.#ctx, options?.keep)));
  }

  /** Replace this actor's data with the backup at `key` (a `…/backup.json`), atomically. */
  async restoreFromBackup(key: string, options: { bucket?: string } = {}): Promise<RestoreResult> {
    this.#begin();
    return this.#exclusive("restore", async () => {
      return restoreBackup(
        this.#ctx,
        key,
        options?.bucket,
        this.#options.restoreHooks,
        this.#options.afterRestore,
      );
    });
  }

  backups(): ReturnType<typeof listBackups> {
    this.#begin();
    return listBackups(this.#ctx);
  }

  async pruneBackups(keep: number): Promise<string[]> {
    this.#begin();
    if (!Number.isInteger(keep) || keep < 1)
      throw new ActorError("VALIDATION_FAILED", "keep must be a positive integer");
    return this.#exclusive("backup", () => pruneBackups(this.#ctx, keep));
  }

  /** Unfinished archive and backup jobs (what `resume()` would continue). */
  jobs(): { id: string; kind: string }[] {
    this.#begin();
    return this.#ctx.sql
      .exec<{ id: string; kind: string }>(`SELECT id, kind FROM ${JOBS} ORDER BY created_at`)
      .toArray();
  }

  /** Continue every unfinished job for one step budget each; `done` when none is left. */
  async resume(): Promise<{ done: boolean }> {
    this.#begin();
    for (const job of this.#ctx.sql
      .exec<{ id: string; kind: string; spec: string }>(`SELECT id, kind, spec FROM ${JOBS}`)
      .toArray()) {
      if (job.kind === "archive") {
        const spec = JSON.parse(job.spec);
        await this.#exclusive(job.id, () => runArchive(this.#ctx, spec));
      } else if (job.kind === "backup") await this.#exclusive("backup", () => runBackup(this.#ctx));
      else if (job.kind === "expire") await this.#exclusive(job.id, () => finishExpire(this.#ctx, job.id));
    }
    return this.#unfinished({ done: this.jobs().length === 0 });
  }

  /** One scheduled run (see schedules.ts); unfinished work books its own continuation. */
  async runScheduled(task: TieringTask): Promise<void> {
    this.#begin();
    if (task && typeof task === "object" && "archive" in task) {
      const spec = this.config.archive?.find((a) => a.table === task.archive);
      if (spec) await this.archive(spec); // else: removed from the config since it was scheduled
      return;
    }
    if (task && typeof task === "object" && "backup" in task) {
      await this.backup({ keep: this.config.backup?.keep });
      return;
    }
    if (task && typeof task === "object" && "resume" in task) {
      await this.resume();
      return;
    }
    throw new ActorError(
      "VALIDATION_FAILED",
      "a tiering task is { archive: table }, { backup: true } or { resume: true }",
    );
  }

  /** Work left over (a step budget ran out): continue it from a schedule shortly. */
  #unfinished<T extends { done: boolean }>(result: T): T {
    if (!result.done) this.#options.scheduleResume?.();
    return result;
  }

  #begin(): void {
    this.#options.assertReady();
    if (this.#ready) return;
    createTieringTables(this.#ctx.sql);
    dropLeftovers(this.#ctx.storage);
    this.#ready = true;
  }

  /** One run per key at a time in this instance (a schedule firing while a call runs waits its turn). */
  #exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.#locks.set(key, tail);
    void tail.then(() => {
      if (this.#locks.get(key) === tail) this.#locks.delete(key);
    });
    return run;
  }
}

function isBucket(value: unknown): value is R2Bucket {
  const b = value as R2Bucket | undefined;
  return !!b && typeof b.put === "function" && typeof b.get === "function" && typeof b.list === "function";
}
