import { ActorError } from "./errors";
import { toJsonText } from "./json";
import {
  type Row,
  type Schedule,
  type ScheduleStatus,
  ScheduleStore,
  type TaskSpec,
  timingOf,
  toSchedule,
} from "./schedule/store";
import {
  type Every,
  firstRun,
  MAX_TIME,
  nextRun,
  PAST_MAX_TIME,
  parseEvery,
  resolveAt,
  type When,
} from "./schedule/timing";

export type { Schedule, ScheduleStatus } from "./schedule/store";
export { type Every, nextCronTime, type When } from "./schedule/timing";

/** Scheduler policy, set per actor with `defineActor({ schedules: { … } })`. */
export interface ScheduleConfig {
  /** Attempts per run before the run is dead-lettered (default 3). */
  maxAttempts?: number;
  /** Delay before the first retry; it doubles with each attempt (default 1 000 ms). */
  backoffMs?: number;
  /** Longest delay between retries (default 300 000 ms). */
  maxBackoffMs?: number;
  /**
   * How long a run may take. The alarm stays armed for this long as a backup while tasks run,
   * so a crash mid-run is noticed; a run still going after it counts as a failed attempt
   * (default 300 000 ms).
   */
  leaseMs?: number;
  /** Dead letters kept; older ones are dropped (default 100). */
  keepFailed?: number;
  /** Largest payload, in bytes of JSON (default 65 536). */
  maxPayloadBytes?: number;
  /** Most tasks running at once; more due tasks start as these finish (default 100). */
  batchSize?: number;
}

export interface TaskOptions {
  /** A stable name: scheduling again with the same key replaces the task instead of adding one. */
  key?: string;
  /** Attempts per run before dead-lettering, for this task. */
  maxAttempts?: number;
}

/**
 * Names of the host's members. Inside a class, `this` is generic and TypeScript cannot filter
 * its members down to methods, so non-method names are refused at run time (UNKNOWN_METHOD).
 */
export type MethodKey<T> = keyof T & string;

const DEFAULTS: Required<ScheduleConfig> = {
  maxAttempts: 3,
  backoffMs: 1_000,
  maxBackoffMs: 300_000,
  leaseMs: 300_000,
  keepFailed: 100,
  maxPayloadBytes: 64 * 1024,
  batchSize: 100,
};

const KEY_MAX = 256;
/**
 * The alarm handler returns after `maxMs` even with runs going on (the platform stops handlers at
 * 15 minutes). An object so tests can shorten it; not part of the public surface.
 */
export const handlerLimit = { maxMs: 10 * 60_000 };

/**
 * Many tasks on the one Durable Object alarm. Tasks live in a table; the alarm is kept at the
 * earliest due task after every change and every run, and re-armed from the table on every wake.
 * A task names a method of the host and a JSON payload: the host's `this[method](payload)` runs.
 *
 * The host (SqlActor) calls `start()` once per wake and `alarm()` from its alarm handler.
 *
 * Not the Agents SDK's `agents/schedules` (0.32, read 2026-11): it needs its `Lifecycle` to own the
 * object's fetch/alarm/WebSocket handlers (partyserver owns them here), keeps times in whole
 * seconds, dedupes recurring tasks by (callback, payload, interval) rather than by a key (a new
 * interval adds a second task), and drops a task after its last retry instead of keeping a dead letter.
 */
export class Scheduler<T extends object> {
  readonly #host: T;
  readonly #storage: DurableObjectStorage;
  readonly #store: ScheduleStore;
  readonly #config: Required<ScheduleConfig>;
  readonly #reserved: ReadonlySet<string>;
  /** The alarm time last set by this instance; undefined when unknown. */
  #armedAt: number | null | undefined;
  #recheckQueued = false;
  #stopped = false;
  /** Set while the alarm handler waits: wakes it when the table changes (a task due sooner). */
  #wake: (() => void) | undefined;
  /**
   * Runs started by this instance and not ended, by task id. Kept across alarm handlers: a handler
   * that returned at `handlerLimit.maxMs` leaves its runs going, and the next one must count them
   * against `batchSize` (a map of its own started empty and ran up to twice the batch).
   */
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(
    host: T,
    storage: DurableObjectStorage,
    config: ScheduleConfig = {},
    reserved: Iterable<string> = [],
  ) {
    this.#host = host;
    this.#storage = storage;
    this.#store = new ScheduleStore(storage.sql);
    this.#config = checkScheduleConfig(config);
    this.#reserved = new Set(reserved);
  }

  /** Run `method` once, at a Date or after a delay in milliseconds. */
  at<M extends MethodKey<T>>(when: When, method: M, payload?: unknown, options?: TaskOptions): Schedule<M> {
    const now = Date.now();
    const spec = this.#spec(method, payload, options, { kind: "at" }, resolveAt(when, now));
    return this.#save(spec, now, false) as Schedule<M>;
  }

  /**
   * Run `method` every `intervalMs` milliseconds, or on a cron string (UTC). Idempotent: with a
   * `key`, the same call again changes nothing (the next run time is kept) and a call with other
   * settings replaces the task; without a key, an identical task is reused.
   */
  every<M extends MethodKey<T>>(
    every: Every,
    method: M,
    payload?: unknown,
    options?: TaskOptions,
  ): Schedule<M> {
    const now = Date.now();
    const timing = parseEvery(every);
    const spec = this.#spec(method, payload, options, timing, firstRun(timing, now));
    return this.#save(spec, now, true) as Schedule<M>;
  }

  /** Remove a task (scheduled, running or dead-lettered) by id or key. True when one was removed. */
  cancel(idOrKey: string): boolean {
    checkId(idOrKey);
    if (this.#stopped) return false;
    const removed = this.#store.delete(idOrKey);
    if (removed) this.#changed();
    return removed;
  }

  /** One task by id or key. */
  get(idOrKey: string): Schedule | undefined {
    checkId(idOrKey);
    const row = this.#store.get(idOrKey);
    return row && toSchedule(row);
  }

  /** Every task, due order first; dead letters (status "failed") last. */
  list(filter: { status?: ScheduleStatus } = {}): Schedule[] {
    const status = filter?.status;
    if (status !== undefined && status !== "scheduled" && status !== "running" && status !== "failed")
      throw new ActorError("VALIDATION_FAILED", "status must be scheduled, running or failed");
    return this.#store.all(status).map(toSchedule);
  }

  /** Give a dead-lettered one-off task another run now (a dead-letter copy of a recurring task too). */
  retry(idOrKey: string): Schedule {
    checkId(idOrKey);
    const row = this.#store.get(idOrKey);
    if (row?.status !== "failed")
      throw new ActorError("SCHEDULE_NOT_FOUND", `no dead-lettered task ${JSON.stringify(idOrKey)}`);
    const spec: TaskSpec = {
      key: row.key,
      method: row.method,
      payload: row.payload,
      timing: { kind: "at" },
      nextRunAt: Date.now(),
      maxAttempts: row.max_attempts,
    };
    this.#store.replace(row.id, spec);
    this.#changed();
    return toSchedule(this.#store.get(row.id)!);
  }

  /** Counts for `stats()`. */
  summary(): {
    total: number;
    scheduled: number;
    due: number;
    running: number;
    failed: number;
    nextRunAt: number | null;
  } {
    const now = Date.now();
    const counts = this.#store.counts(now);
    return { ...counts, nextRunAt: this.#store.nextDue() };
  }

  // ---- framework side: called by the actor, not by users ----

  /**
   * On every wake (before any request): runs interrupted by the end of the previous instance
   * count as failed attempts, and the alarm is re-armed from the table. Never runs tasks itself
   * (the alarm handler does), so a wake-up cannot run a task twice.
   */
  async start(): Promise<void> {
    this.#store.create();
    const now = Date.now();
    for (const row of this.#store.interrupted())
      this.#fail(row, new ActorError("TASK_INTERRUPTED", "the actor restarted while the task ran"), now);
    // Nothing to run: leave the alarm alone (a stale one finds nothing and is cleared).
    if (this.#store.wakeTime(this.#config.leaseMs) === null) return;
    this.#armedAt = await this.#storage.getAlarm();
    this.#arm();
  }

  /**
   * The alarm handler: starts every due task, in due order, and keeps starting tasks as they come
   * due while others still run, so a slow task never delays another beyond the alarm's own
   * latency. It returns when nothing it started is still running (or after `handlerLimit.maxMs`, the
   * runs going on without it), with the alarm at the next due time.
   */
  async alarm(): Promise<void> {
    if (this.#stopped || !this.#store.exists) return;
    this.#armedAt = undefined; // the alarm that woke us is spent
    const started = Date.now();
    const inFlight = this.#inFlight;
    try {
      while (!this.#stopped) {
        const now = Date.now();
        this.#expireLeases(now, inFlight);
        const room = this.#config.batchSize - inFlight.size;
        const due = room > 0 ? this.#store.claimDue(crypto.randomUUID(), now, room) : [];
        // While these run the alarm stays set at their lease expiry: a backup wake if the isolate dies.
        this.#arm();
        // The "running" marks must be on disk before a task can crash the isolate, or a task that
        // always crashes would be retried forever without its attempts being counted.
        if (due.length > 0) await this.#storage.sync();
        // Each starts in due order (its synchronous part runs right here); none waits for another.
        for (const row of due) {
          const run: Promise<void> = this.#run(row).finally(() => {
            if (inFlight.get(row.id) === run) inFlight.delete(row.id);
          });
          inFlight.set(row.id, run);
        }
        if (inFlight.size === 0 || Date.now() - started >= handlerLimit.maxMs) return;
        // Until a run ends, the next task comes due, a lease runs out, or the table changes. With
        // the batch full, a due task waits for a run to end: waking for it would spin on a 0 ms timer.
        const full = inFlight.size >= this.#config.batchSize;
        const wake = full
          ? this.#store.leaseExpiry(this.#config.leaseMs)
          : this.#store.wakeTime(this.#config.leaseMs);
        await this.#until(wake === null ? undefined : wake - Date.now(), inFlight.values());
      }
    } finally {
      this.#wake = undefined;
      this.#arm();
    }
  }

  /** Runs past their lease count as failed attempts; the handler stops waiting for them. */
  #expireLeases(now: number, inFlight: Map<string, Promise<void>>): void {
    for (const row of this.#store.all("running"))
      if (row.last_run_at !== null && row.last_run_at + this.#config.leaseMs <= now) {
        inFlight.delete(row.id);
        this.#fail(
          row,
          new ActorError("TASK_TIMEOUT", `the task ran longer than ${this.#config.leaseMs} ms`),
          now,
        );
      }
  }

  /** Wait for the first of: `ms` passing, one of `runs` settling, a change to the table. */
  async #until(ms: number | undefined, runs: Iterable<Promise<void>>): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waits: Promise<unknown>[] = [...runs, new Promise<void>((resolve) => (this.#wake = resolve))];
    if (ms !== undefined)
      waits.push(new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, ms)))));
    try {
      await Promise.race(waits);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      this.#wake = undefined;
    }
  }

  /** Stop for good (the actor is being destroyed): no more writes, no more alarms. */
  stop(): void {
    this.#stopped = true;
    this.#store.reset();
  }

  // ---- internals ----

  #spec(
    method: string,
    payload: unknown,
    options: TaskOptions | undefined,
    timing: TaskSpec["timing"],
    nextRunAt: number,
  ): TaskSpec {
    this.#checkMethod(method);
    if (options !== undefined && (options === null || typeof options !== "object"))
      throw new ActorError("INVALID_SCHEDULE", "options must be an object");
    const key = options?.key ?? null;
    if (key !== null) checkId(key, "key");
    const maxAttempts = options?.maxAttempts ?? this.#config.maxAttempts;
    checkCount(maxAttempts, "maxAttempts", 1, 100);
    const json = toJsonText(payload, this.#config.maxPayloadBytes, "payload");
    return { key, method, payload: json, timing, nextRunAt, maxAttempts };
  }

  #save(spec: TaskSpec, now: number, recurring: boolean): Schedule {
    if (this.#stopped) throw new ActorError("ACTOR_DESTROYED", "this actor has been destroyed");
    const existing =
      spec.key !== null ? this.#store.get(spec.key) : recurring ? this.#store.findSame(spec) : undefined;
    if (existing && existing.key === spec.key) {
      if (recurring && sameTask(existing, spec) && existing.status !== "failed") return toSchedule(existing);
      this.#store.replace(existing.id, spec);
      this.#changed();
      return toSchedule(this.#store.get(existing.id)!);
    }
    const id = crypto.randomUUID();
    this.#store.insert(id, spec, now);
    this.#changed();
    return toSchedule(this.#store.get(id)!);
  }

  #checkMethod(method: unknown): asserts method is string {
    if (typeof method !== "string" || method.length === 0 || method.length > 128)
      throw new ActorError("UNKNOWN_METHOD", "method must be the name of a method of the actor");
    const fn = (this.#host as Record<string, unknown>)[method];
    if (this.#reserved.has(method) || method in Object.prototype || typeof fn !== "function")
      throw new ActorError(
        "UNKNOWN_METHOD",
        `${JSON.stringify(method)} is not a method this actor can schedule`,
        {
          method,
        },
      );
  }

  async #run(row: Row): Promise<void> {
    // Claimed with its batch, but an earlier task of the batch may have cancelled or replaced it
    // since: then this run is no longer wanted (its end would be a no-op, its side effects not).
    if (this.#stopped || this.#store.get(row.id)?.run_id !== row.run_id) return;
    let failure: unknown;
    let failed = false;
    try {
      const fn = (this.#host as Record<string, unknown>)[row.method];
      if (typeof fn !== "function")
        throw new ActorError("UNKNOWN_METHOD", `${row.method} is no longer a method of this actor`);
      await fn.call(this.#host, row.payload === null ? undefined : JSON.parse(row.payload));
    } catch (err) {
      failure = err;
      failed = true;
    }
    if (this.#stopped) return;
    const now = Date.now();
    if (failed) return this.#fail(row, failure, now);
    const timing = timingOf(row);
    if (timing.kind === "at") return this.#store.succeeded(row, null);
    const next = nextRun(timing, dueAt(row), now);
    // No next run the alarm can take: the task stays, dead-lettered, so list() shows why it ended.
    if (next === null) this.#store.deadLetter(row, row.attempts, PAST_MAX_TIME);
    else this.#store.succeeded(row, next);
  }

  /** One failed attempt: retry with exponential backoff, or dead-letter once the attempts are used up. */
  #fail(row: Row, err: unknown, now: number): void {
    const attempts = row.attempts + 1;
    const message = describe(err);
    console.error(
      `scheduled task ${row.method} (${row.key ?? row.id}) failed, attempt ${attempts}/${row.max_attempts}: ${message}`,
    );
    if (attempts < row.max_attempts) {
      const delay = Math.min(this.#config.maxBackoffMs, this.#config.backoffMs * 2 ** (attempts - 1));
      this.#store.retryLater(row, attempts, message, Math.min(now + delay, MAX_TIME));
      return;
    }
    const timing = timingOf(row);
    const next = timing.kind === "at" ? null : nextRun(timing, dueAt(row), now);
    if (timing.kind === "at") this.#store.deadLetter(row, attempts, message);
    // A recurring task with no next run in range ends here: the task itself is the dead letter.
    else if (next === null) this.#store.deadLetter(row, attempts, `${message}; ${PAST_MAX_TIME}`);
    else this.#store.deadLetterRun(crypto.randomUUID(), row, attempts, message, next, now);
    this.#store.pruneFailed(this.#config.keepFailed);
  }

  /**
   * After a change: re-arm once the current synchronous work is done. Not at once: the change may
   * be inside a transaction, and a transaction that rolls back takes its setAlarm with it.
   */
  #changed(): void {
    this.#wake?.();
    if (this.#recheckQueued) return;
    this.#recheckQueued = true;
    queueMicrotask(() => {
      this.#recheckQueued = false;
      this.#arm();
    });
  }

  /** Keep the alarm at the earliest due task (at least 1 ms ahead: workerd drops an alarm set for "now" inside alarm()). */
  #arm(): void {
    if (this.#stopped) return;
    const due = this.#store.wakeTime(this.#config.leaseMs);
    const target = due === null ? null : Math.max(due, Date.now() + 1);
    const armed = this.#armedAt;
    if (armed === target) return;
    // Already armed for a moment between the due time and now: as good as re-arming.
    if (due !== null && target !== null && typeof armed === "number" && armed >= due && armed <= target)
      return;
    const done = target === null ? this.#storage.deleteAlarm() : this.#storage.setAlarm(target);
    this.#armedAt = target;
    done.catch((err) => {
      // Refused: the alarm is not what was asked, so the next change must set it again.
      if (this.#armedAt === target) this.#armedAt = undefined;
      console.error("could not set the actor's alarm", err);
    });
  }
}

/** When a run was due: a retry runs later, but the next run keeps the cadence of the first due time. */
function dueAt(row: Row): number {
  return row.due_at ?? row.next_run_at;
}

function sameTask(row: Row, spec: TaskSpec): boolean {
  const timing = timingOf(row);
  return (
    row.method === spec.method &&
    row.payload === spec.payload &&
    row.max_attempts === spec.maxAttempts &&
    timing.kind === spec.timing.kind &&
    (timing.kind !== "every" ||
      spec.timing.kind !== "every" ||
      timing.intervalMs === spec.timing.intervalMs) &&
    (timing.kind !== "cron" || spec.timing.kind !== "cron" || timing.cron === spec.timing.cron)
  );
}

function describe(err: unknown): string {
  const actorError = ActorError.from(err);
  const text = actorError
    ? `${actorError.code}: ${actorError.description}`
    : err instanceof Error
      ? `${err.name}: ${err.message}`
      : String(err);
  return text.length > 1000 ? `${text.slice(0, 1000)}…` : text;
}

function checkId(value: unknown, what = "id or key"): asserts value is string {
  if (typeof value !== "string" || value.length === 0 || value.length > KEY_MAX)
    throw new ActorError("INVALID_SCHEDULE", `${what} must be a string of 1-${KEY_MAX} characters`);
}

function checkCount(value: unknown, what: string, min: number, max: number): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    throw new ActorError("INVALID_SCHEDULE", `${what} must be a whole number from ${min} to ${max}`);
}

export function checkScheduleConfig(config: ScheduleConfig): Required<ScheduleConfig> {
  if (config === null || typeof config !== "object")
    throw new ActorError("INVALID_SCHEDULE", "schedules must be an object");
  const merged = { ...DEFAULTS, ...config };
  checkCount(merged.maxAttempts, "schedules.maxAttempts", 1, 100);
  for (const name of [
    "backoffMs",
    "maxBackoffMs",
    "leaseMs",
    "maxPayloadBytes",
    "keepFailed",
    "batchSize",
  ] as const)
    checkCount(merged[name], `schedules.${name}`, name === "keepFailed" ? 0 : 1, 2 ** 40);
  return merged;
}
