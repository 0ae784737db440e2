import { DurableObject } from "cloudflare:workers";
import { parseInput } from "../coordinator/validate";
import { ActorError } from "../errors";
import { addMissingColumns, tableExists } from "../sql/tables";
import { inBatches } from "./batch";
import {
  DEFAULT_BATCH,
  DEFAULT_CONCURRENCY,
  type ListInput,
  listInput,
  type MigrateInput,
  migrateInput,
  type QueryInput,
  queryInput,
  reportInput,
} from "./inputs";
import { checkOneStatement, type ReadOnlyResult } from "./read-only";
import type {
  ActorFailure,
  FleetEntry,
  FleetPage,
  FleetReport,
  MemberInfo,
  MigrateJob,
  MigrateProgress,
  QueryAllResult,
} from "./types";

/** What the registry calls on a member (SqlActor's fleet entry points, see src/sql-actor.ts). */
interface MemberStub {
  _fleetInfo(): Promise<MemberInfo>;
  _fleetQuery(sql: string, params: unknown[], rows: number): Promise<ReadOnlyResult>;
}

type Row = {
  name: string;
  class_name: string;
  created_at: number;
  last_seen: number;
  version: string | null;
  bytes: number;
  error_code: string | null;
  error_message: string | null;
  jurisdiction: string | null;
};

/** A background migration continues this soon after each batch (each alarm run is its own invocation). */
const JOB_STEP_MS = 10;

/**
 * The registry of every actor of one kind (one object per kind: `FLEET.getByName("tenants")`).
 * Members report themselves (src/fleet/part.ts); the registry lists them by name with a cursor,
 * wakes them in bounded batches so pending migrations run (`migrateAll`, resumable from its cursor
 * across requests, or in the background from alarm runs), and scatter-gathers a read-only query
 * (`queryAll`). Members are reached through `ctx.exports[className]`, so no binding per kind is needed.
 *
 * Reads never write: the tables are created by the first report.
 */
export class FleetRegistry extends DurableObject {
  #ready = false;

  report(input: FleetReport): void {
    const r = parseInput(reportInput, input);
    this.#install();
    const now = Date.now();
    this.ctx.storage.sql.exec(
      `INSERT INTO actors (name, class_name, created_at, last_seen, version, bytes, jurisdiction) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET class_name = excluded.class_name, last_seen = excluded.last_seen,
         version = excluded.version, bytes = excluded.bytes, jurisdiction = excluded.jurisdiction,
         error_code = NULL, error_message = NULL`,
      r.name,
      r.className,
      now,
      now,
      r.version,
      r.bytes,
      r.jurisdiction ?? null,
    );
  }

  /** Actors by name, `limit` at a time (default 100, at most 500). */
  list(input: ListInput = {}): FleetPage {
    const { cursor, limit } = parseInput(listInput, input ?? {});
    if (!this.#exists()) return { actors: [], cursor: null, total: 0 };
    const rows = this.#page(cursor ?? null, limit ?? DEFAULT_BATCH);
    return { actors: rows.page.map(toEntry), cursor: rows.next, total: this.#total() };
  }

  /**
   * Wake the next `limit` actors after `cursor` (at most `concurrency` at once) so their pending
   * migrations run; each one's new version and size are recorded, failures reported per actor.
   * Call again with the returned cursor until `done`; or pass `background: true` to let the
   * registry continue from alarms (see `migrateStatus`).
   */
  async migrateAll(input: MigrateInput = {}): Promise<MigrateProgress | MigrateJob> {
    const { cursor, limit, concurrency, background } = parseInput(migrateInput, input ?? {});
    if (background) return this.#startJob(concurrency ?? DEFAULT_CONCURRENCY, limit ?? DEFAULT_BATCH);
    return this.#migrateBatch(cursor ?? null, limit ?? DEFAULT_BATCH, concurrency ?? DEFAULT_CONCURRENCY);
  }

  /** The background migration's progress (null when none was started). */
  migrateStatus(): MigrateJob | null {
    if (!this.#exists()) return null;
    const [job] = this.ctx.storage.sql
      .exec<{ state: string }>("SELECT state FROM jobs WHERE id = 'migrate'")
      .toArray();
    return job ? (JSON.parse(job.state) as MigrateJob) : null;
  }

  /**
   * Run one read-only statement on the next `limit` actors after `cursor`, results tagged by actor.
   * A statement that writes is refused (400 READ_ONLY) by SQLite's own judgement in each actor.
   */
  async queryAll(input: QueryInput): Promise<QueryAllResult> {
    const q = parseInput(queryInput, input);
    checkOneStatement(q.sql);
    if (!this.#exists()) return { results: [], errors: [], cursor: null, done: true };
    const { page, next } = this.#page(q.cursor ?? null, q.limit ?? DEFAULT_BATCH);
    const settled = await inBatches(page, q.concurrency ?? DEFAULT_CONCURRENCY, (row) =>
      this.#member(row)._fleetQuery(q.sql, q.params ?? [], q.rows ?? 1000),
    );
    const results: QueryAllResult["results"] = [];
    const errors: ActorFailure[] = [];
    settled.forEach((outcome, i) => {
      const actor = page[i].name;
      if (outcome.status === "fulfilled") results.push({ ...outcome.value, actor });
      else {
        const failure = failureOf(actor, outcome.reason);
        // The statement's fault, not the actor's: the whole call is refused.
        if (failure.code === "READ_ONLY" || failure.code === "VALIDATION_FAILED")
          throw ActorError.from(outcome.reason)!;
        errors.push(failure);
      }
    });
    return { results, errors, cursor: next, done: next === null };
  }

  override async alarm(): Promise<void> {
    const job = this.migrateStatus();
    if (!job?.running) return;
    const step = await this.#migrateBatch(job.cursor, job.limit, job.concurrency);
    const merged: MigrateJob = {
      ...step,
      processed: job.processed + step.processed,
      migrated: job.migrated + step.migrated,
      errors: [...job.errors, ...step.errors].slice(-100),
      running: !step.done,
      concurrency: job.concurrency,
      limit: job.limit,
      startedAt: job.startedAt,
      updatedAt: Date.now(),
    };
    this.#saveJob(merged);
    if (!step.done) await this.ctx.storage.setAlarm(Date.now() + JOB_STEP_MS);
  }

  async #startJob(concurrency: number, limit: number): Promise<MigrateJob> {
    this.#install();
    const now = Date.now();
    const job: MigrateJob = {
      processed: 0,
      migrated: 0,
      errors: [],
      cursor: null,
      done: false,
      ...this.#versions(),
      running: true,
      concurrency,
      limit,
      startedAt: now,
      updatedAt: now,
    };
    this.#saveJob(job);
    await this.ctx.storage.setAlarm(now + JOB_STEP_MS);
    return job;
  }

  async #migrateBatch(cursor: string | null, limit: number, concurrency: number): Promise<MigrateProgress> {
    if (!this.#exists())
      return { processed: 0, migrated: 0, errors: [], cursor: null, done: true, total: 0, versions: {} };
    const { page, next } = this.#page(cursor, limit);
    const settled = await inBatches(page, concurrency, (row) => this.#member(row)._fleetInfo());
    const errors: ActorFailure[] = [];
    let migrated = 0;
    const now = Date.now();
    settled.forEach((outcome, i) => {
      const name = page[i].name;
      if (outcome.status === "fulfilled") {
        const info = outcome.value;
        if (info.applied > 0) migrated++;
        this.ctx.storage.sql.exec(
          "UPDATE actors SET version = ?, bytes = ?, last_seen = ?, error_code = NULL, error_message = NULL WHERE name = ?",
          info.version,
          info.bytes,
          now,
          name,
        );
      } else {
        const failure = failureOf(name, outcome.reason);
        errors.push(failure);
        this.ctx.storage.sql.exec(
          "UPDATE actors SET error_code = ?, error_message = ? WHERE name = ?",
          failure.code,
          failure.message,
          name,
        );
      }
    });
    return {
      processed: page.length,
      migrated,
      errors,
      cursor: next,
      done: next === null,
      ...this.#versions(),
    };
  }

  #member(row: Row): MemberStub {
    const exports = (this.ctx as { exports?: Record<string, unknown> }).exports;
    const ns = exports?.[row.class_name] as DurableObjectNamespace | undefined;
    if (!ns || typeof ns.getByName !== "function")
      throw new ActorError(
        "FLEET_CLASS_UNKNOWN",
        `no Durable Object class ${row.class_name} exported by this Worker`,
      );
    // An actor in a jurisdiction (RegionalAnalytics "eu") is another object than its name in the
    // plain namespace: reach it where it lives (local workerd has no jurisdictions: never set there).
    const home = row.jurisdiction ? ns.jurisdiction(row.jurisdiction as DurableObjectJurisdiction) : ns;
    return home.getByName(row.name) as unknown as MemberStub;
  }

  #page(cursor: string | null, limit: number): { page: Row[]; next: string | null } {
    const rows = this.ctx.storage.sql
      .exec<Row>(
        `SELECT * FROM actors ${cursor === null ? "" : "WHERE name > ?"} ORDER BY name LIMIT ?`,
        ...(cursor === null ? [limit + 1] : [cursor, limit + 1]),
      )
      .toArray();
    const page = rows.slice(0, limit);
    return { page, next: rows.length > limit ? page[page.length - 1].name : null };
  }

  #total(): number {
    return Number(this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM actors").one().n);
  }

  #versions(): { total: number; versions: Record<string, number> } {
    const versions: Record<string, number> = {};
    let total = 0;
    for (const row of this.ctx.storage.sql.exec<{ version: string | null; n: number }>(
      "SELECT version, count(*) AS n FROM actors GROUP BY version",
    )) {
      versions[row.version ?? "none"] = Number(row.n);
      total += Number(row.n);
    }
    return { total, versions };
  }

  #saveJob(job: MigrateJob): void {
    this.ctx.storage.sql.exec(
      "INSERT INTO jobs (id, state) VALUES ('migrate', ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state",
      JSON.stringify(job),
    );
  }

  #install(): void {
    if (this.#ready) return;
    this.ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS actors (
      name TEXT PRIMARY KEY, class_name TEXT NOT NULL, created_at INTEGER NOT NULL, last_seen INTEGER NOT NULL,
      version TEXT, bytes INTEGER NOT NULL DEFAULT 0, error_code TEXT, error_message TEXT,
      jurisdiction TEXT) WITHOUT ROWID`);
    // A registry created before the jurisdiction column (issue 15's first version) gains it.
    addMissingColumns(this.ctx.storage.sql, "actors", [["jurisdiction", "TEXT"]]);
    this.ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, state TEXT NOT NULL) WITHOUT ROWID",
    );
    this.#ready = true;
  }

  #exists(): boolean {
    if (!this.#ready) this.#ready = tableExists(this.ctx.storage.sql, "actors");
    return this.#ready;
  }
}

function toEntry(row: Row): FleetEntry {
  return {
    name: row.name,
    className: row.class_name,
    createdAt: row.created_at,
    lastSeen: row.last_seen,
    version: row.version,
    bytes: row.bytes,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? "" } : null,
  };
}

function failureOf(actor: string, reason: unknown): ActorFailure {
  const known = ActorError.from(reason);
  if (known) return { actor, code: known.code, message: known.description };
  const message = reason instanceof Error ? reason.message : String(reason);
  return { actor, code: "ACTOR_UNAVAILABLE", message: message.slice(0, 500) };
}
