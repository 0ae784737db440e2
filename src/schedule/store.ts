import type { JsonValue } from "../json";
import { addMissingColumns, tableExists } from "../sql/tables";
import type { Timing } from "./timing";

/** `scheduled`: waiting for its time; `running`: started, not finished; `failed`: dead-lettered. */
export type ScheduleStatus = "scheduled" | "running" | "failed";

/** One task as `list()` shows it. Times are epoch milliseconds. */
export interface Schedule<M extends string = string> {
  id: string;
  /** The caller's name for it (`{ key }`); null for unnamed tasks and dead-letter copies. */
  key: string | null;
  method: M;
  payload: JsonValue | undefined;
  kind: Timing["kind"];
  intervalMs: number | null;
  cron: string | null;
  /** When it runs next (or, for a failed task, when the failed run was due). */
  nextRunAt: number;
  status: ScheduleStatus;
  /** Failed attempts of the current run. */
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  lastRunAt: number | null;
  /** Successful runs so far. */
  runs: number;
  createdAt: number;
  /** For a dead-letter copy of a recurring task: the id of that task. */
  failedFrom: string | null;
}

export const TABLE = "_dosql_schedules";

const DDL = [
  `CREATE TABLE IF NOT EXISTS ${TABLE} (
    id TEXT PRIMARY KEY,
    key TEXT UNIQUE,
    method TEXT NOT NULL,
    payload TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('at', 'every', 'cron')),
    interval_ms INTEGER,
    cron TEXT,
    next_run_at INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'running', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_id TEXT,
    last_error TEXT,
    last_run_at INTEGER,
    runs INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    failed_from TEXT,
    due_at INTEGER
  )`,
  `CREATE INDEX IF NOT EXISTS ${TABLE}_due ON ${TABLE} (status, next_run_at)`,
];

export interface Row {
  id: string;
  key: string | null;
  method: string;
  payload: string | null;
  kind: Timing["kind"];
  interval_ms: number | null;
  cron: string | null;
  next_run_at: number;
  status: ScheduleStatus;
  attempts: number;
  max_attempts: number;
  run_id: string | null;
  last_error: string | null;
  last_run_at: number | null;
  runs: number;
  created_at: number;
  failed_from: string | null;
  /** While a run waits for a retry (next_run_at): when that run was due, its place on the cadence. */
  due_at: number | null;
}

/** What a new or replaced task is made of. */
export interface TaskSpec {
  key: string | null;
  method: string;
  payload: string | null;
  timing: Timing;
  nextRunAt: number;
  maxAttempts: number;
}

export function toSchedule(row: Row): Schedule {
  return {
    id: row.id,
    key: row.key,
    method: row.method,
    payload: row.payload === null ? undefined : (JSON.parse(row.payload) as JsonValue),
    kind: row.kind,
    intervalMs: row.interval_ms,
    cron: row.cron,
    nextRunAt: row.next_run_at,
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    lastError: row.last_error,
    lastRunAt: row.last_run_at,
    runs: row.runs,
    createdAt: row.created_at,
    failedFrom: row.failed_from,
  };
}

export function timingOf(row: Pick<Row, "kind" | "interval_ms" | "cron">): Timing {
  if (row.kind === "every") return { kind: "every", intervalMs: row.interval_ms! };
  if (row.kind === "cron") return { kind: "cron", cron: row.cron! };
  return { kind: "at" };
}

/**
 * The schedule table, created on each wake before any request (`create()`); every statement is
 * parameterised. It is not created lazily on the first write: that write may sit in a
 * transaction that rolls back and takes the new table with it.
 */
export class ScheduleStore {
  readonly #sql: SqlStorage;
  #exists: boolean | undefined;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  get exists(): boolean {
    this.#exists ??= tableExists(this.#sql, TABLE);
    return this.#exists;
  }

  /** Forget what is known about the table (after `deleteAll`). */
  reset(): void {
    this.#exists = undefined;
  }

  create(): void {
    for (const statement of DDL) this.#sql.exec(statement);
    // Tables made before due_at was added.
    addMissingColumns(this.#sql, TABLE, [["due_at", "INTEGER"]]);
    this.#exists = true;
  }

  #ensure(): void {
    if (!this.exists) this.create();
  }

  #rows(sql: string, ...params: SqlStorageValue[]): Row[] {
    if (!this.exists) return [];
    return this.#sql.exec<Row & Record<string, SqlStorageValue>>(sql, ...params).toArray();
  }

  #write(sql: string, ...params: SqlStorageValue[]): number {
    this.#ensure();
    const cursor = this.#sql.exec(sql, ...params);
    cursor.toArray();
    return cursor.rowsWritten;
  }

  get(idOrKey: string): Row | undefined {
    return this.#rows(
      `SELECT * FROM ${TABLE} WHERE id = ?1 OR key = ?1 ORDER BY id = ?1 DESC LIMIT 1`,
      idOrKey,
    )[0];
  }

  all(status?: ScheduleStatus): Row[] {
    return status
      ? this.#rows(`SELECT * FROM ${TABLE} WHERE status = ? ORDER BY next_run_at, rowid`, status)
      : this.#rows(`SELECT * FROM ${TABLE} ORDER BY status = 'failed', next_run_at, rowid`);
  }

  insert(id: string, spec: TaskSpec, now: number): void {
    this.#write(
      `INSERT INTO ${TABLE} (id, key, method, payload, kind, interval_ms, cron, next_run_at, max_attempts, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      id,
      spec.key,
      ...specColumns(spec),
      now,
    );
  }

  /** Replace a task in place (same id and key): new method, payload, timing; a fresh start. */
  replace(id: string, spec: TaskSpec): void {
    this.#write(
      `UPDATE ${TABLE} SET method = ?, payload = ?, kind = ?, interval_ms = ?, cron = ?, next_run_at = ?,
         max_attempts = ?, status = 'scheduled', attempts = 0, run_id = NULL, last_error = NULL, due_at = NULL
       WHERE id = ?`,
      ...specColumns(spec),
      id,
    );
  }

  delete(idOrKey: string): boolean {
    if (!this.exists) return false;
    return this.#write(`DELETE FROM ${TABLE} WHERE id = ?1 OR key = ?1`, idOrKey) > 0;
  }

  /** Claim up to `limit` due tasks for one alarm run, in due order. */
  claimDue(runId: string, now: number, limit: number): Row[] {
    if (!this.exists) return [];
    return this.#sql
      .exec<Row & Record<string, SqlStorageValue>>(
        `UPDATE ${TABLE} SET status = 'running', run_id = ?, last_run_at = ?
         WHERE id IN (SELECT id FROM ${TABLE} WHERE status = 'scheduled' AND next_run_at <= ?
                      ORDER BY next_run_at, rowid LIMIT ?)
         RETURNING *`,
        runId,
        now,
        now,
        limit,
      )
      .toArray()
      .sort((a, b) => a.next_run_at - b.next_run_at || a.created_at - b.created_at);
  }

  /** An unnamed live task with exactly these settings (what `every` without a key reuses). */
  findSame(spec: TaskSpec): Row | undefined {
    return this.#rows(
      `SELECT * FROM ${TABLE} WHERE key IS NULL AND failed_from IS NULL AND status != 'failed'
         AND method = ? AND payload IS ? AND kind = ? AND interval_ms IS ? AND cron IS ? AND max_attempts = ?
       LIMIT 1`,
      spec.method,
      spec.payload,
      spec.timing.kind,
      spec.timing.kind === "every" ? spec.timing.intervalMs : null,
      spec.timing.kind === "cron" ? spec.timing.cron : null,
      spec.maxAttempts,
    )[0];
  }

  /** A run finished: a one-off is removed, a recurring task moves to its next time. Guarded by run id. */
  succeeded(row: Row, nextRunAt: number | null): void {
    if (nextRunAt === null) {
      this.#write(`DELETE FROM ${TABLE} WHERE id = ? AND run_id = ?`, row.id, row.run_id);
      return;
    }
    this.#write(
      `UPDATE ${TABLE} SET status = 'scheduled', run_id = NULL, attempts = 0, last_error = NULL,
         runs = runs + 1, next_run_at = ?, due_at = NULL WHERE id = ? AND run_id = ?`,
      nextRunAt,
      row.id,
      row.run_id,
    );
  }

  /** A run failed and will be tried again at `retryAt`; when it was due is kept (`due_at`). */
  retryLater(row: Row, attempts: number, error: string, retryAt: number): void {
    this.#write(
      `UPDATE ${TABLE} SET status = 'scheduled', run_id = NULL, attempts = ?, last_error = ?,
         due_at = coalesce(due_at, next_run_at), next_run_at = ?
       WHERE id = ? AND run_id IS ?`,
      attempts,
      error,
      retryAt,
      row.id,
      row.run_id,
    );
  }

  /** A one-off used up its attempts: it stays in the table as a dead letter. */
  deadLetter(row: Row, attempts: number, error: string): void {
    this.#write(
      `UPDATE ${TABLE} SET status = 'failed', run_id = NULL, attempts = ?, last_error = ?,
         next_run_at = coalesce(due_at, next_run_at), due_at = NULL
       WHERE id = ? AND run_id IS ?`,
      attempts,
      error,
      row.id,
      row.run_id,
    );
  }

  /**
   * A recurring task used up its attempts on one run: that run is dead-lettered as a copy, the task
   * goes on. Like every end of a run, guarded by the run id: a task cancelled (or replaced) while
   * it ran leaves no copy behind.
   */
  deadLetterRun(
    copyId: string,
    row: Row,
    attempts: number,
    error: string,
    nextRunAt: number,
    now: number,
  ): void {
    this.#write(
      `INSERT INTO ${TABLE} (id, key, method, payload, kind, interval_ms, cron, next_run_at, status, attempts,
         max_attempts, last_error, last_run_at, created_at, failed_from)
       SELECT ?, NULL, method, payload, kind, interval_ms, cron, coalesce(due_at, next_run_at), 'failed', ?,
         max_attempts, ?, ?, ?, id
       FROM ${TABLE} WHERE id = ? AND run_id IS ?`,
      copyId,
      attempts,
      error,
      now,
      now,
      row.id,
      row.run_id,
    );
    this.#write(
      `UPDATE ${TABLE} SET status = 'scheduled', run_id = NULL, attempts = 0, last_error = ?, next_run_at = ?,
         due_at = NULL
       WHERE id = ? AND run_id IS ?`,
      error,
      nextRunAt,
      row.id,
      row.run_id,
    );
  }

  /** Keep only the newest `keep` dead letters. */
  pruneFailed(keep: number): void {
    this.#write(
      `DELETE FROM ${TABLE} WHERE status = 'failed' AND id NOT IN
         (SELECT id FROM ${TABLE} WHERE status = 'failed' ORDER BY last_run_at DESC, rowid DESC LIMIT ?)`,
      keep,
    );
  }

  /** Tasks left `running` by an earlier instance of the object (it crashed, was evicted or redeployed). */
  interrupted(): Row[] {
    return this.#rows(`SELECT * FROM ${TABLE} WHERE status = 'running'`);
  }

  /** The earliest due time of a scheduled task (an index lookup). */
  nextDue(): number | null {
    const row = this.#rows(
      `SELECT min(next_run_at) AS t FROM ${TABLE} WHERE status = 'scheduled'`,
    )[0] as unknown as { t: number | null } | undefined;
    return row?.t ?? null;
  }

  /** When the first lease of a running task runs out. */
  leaseExpiry(leaseMs: number): number | null {
    const running = this.#rows(
      `SELECT min(last_run_at) AS t FROM ${TABLE} WHERE status = 'running'`,
    )[0] as unknown as { t: number | null } | undefined;
    return running?.t == null ? null : running.t + leaseMs;
  }

  /** When the alarm must fire: the earliest due task, or a running task's lease expiry (the backup). */
  wakeTime(leaseMs: number): number | null {
    const due = this.nextDue();
    const lease = this.leaseExpiry(leaseMs);
    if (due === null) return lease;
    return lease === null ? due : Math.min(due, lease);
  }

  counts(now: number): { total: number; scheduled: number; due: number; running: number; failed: number } {
    const row = this.#rows(
      `SELECT count(*) AS total,
         coalesce(sum(status = 'scheduled'), 0) AS scheduled,
         coalesce(sum(status = 'scheduled' AND next_run_at <= ?), 0) AS due,
         coalesce(sum(status = 'running'), 0) AS running,
         coalesce(sum(status = 'failed'), 0) AS failed
       FROM ${TABLE}`,
      now,
    )[0] as unknown as { total: number; scheduled: number; due: number; running: number; failed: number };
    return row ?? { total: 0, scheduled: 0, due: 0, running: 0, failed: 0 };
  }
}

/** A task's columns method, payload, kind, interval_ms, cron, next_run_at, max_attempts: for insert and replace alike. */
function specColumns(spec: TaskSpec): SqlStorageValue[] {
  const { timing } = spec;
  return [
    spec.method,
    spec.payload,
    timing.kind,
    timing.kind === "every" ? timing.intervalMs : null,
    timing.kind === "cron" ? timing.cron : null,
    spec.nextRunAt,
    spec.maxAttempts,
  ];
}
