import migrations from "../../migrations/regional-analytics/migrations.js";
import { registerName } from "../../src/coordinator/directory";
import { parseInput } from "../../src/coordinator/validate";
import { type ActorConfig, defineActor } from "../../src/define-actor";
import { ActorError } from "../../src/errors";
import { fleet } from "../../src/fleet/part";
import { forward } from "../../src/forward/index";
import type { ForwardStatus } from "../../src/forward/types";
import { history } from "../../src/history/index";
import { SqlActor } from "../../src/sql-actor";
import { tiering } from "../../src/tiering/index";
import { type EventError, invalidEvents } from "./errors";
import { checkEvent, type Event, type EventInput, isIssue } from "./event";
import { eventRow, RAW, RAWS } from "./ingest-sql";
import {
  type ArchiveInput,
  archiveInput,
  FUTURE_SKEW_MS,
  type HistoricalInput,
  historicalInput,
  type IngestOptions,
  ingestOptionsOf,
  LATE_WINDOW_MS,
  MAX_BATCH,
  type PruneInput,
  pruneInput,
  type QueryInput,
  queryInput,
  RANGES,
  retentionDays,
} from "./inputs";
import { configuredSalt, generateSalt, UserHasher } from "./privacy";
import {
  type DailyRow,
  dayOf,
  dayStart,
  emptyQuery,
  emptyRealtime,
  type HistoricalResult,
  minuteOf,
  type QueryResult,
  type RealtimeResult,
  ROLLUP_COLUMNS,
} from "./results";
import * as schema from "./schema";

export interface IngestResult {
  region: string;
  accepted: number;
  /** With `partial: true`: the events left out, by index. Empty otherwise (a bad event fails the call). */
  rejected: EventError[];
}

export interface RollupResult {
  /** Days recomputed (those that received events since the last rollup). */
  days: string[];
  /** region_rollups rows whose figures changed (each one change the forward sends). */
  changed: number;
}

export interface SyncResult {
  region: string;
  rollup: RollupResult;
  forward: ForwardStatus[];
}

export interface PruneResult {
  rawEvents: number;
  minuteAggregates: number;
  sessions: number;
  /** Events timestamped before this (epoch ms) are gone and refused from now on. */
  cutoff: number;
}

/** How often the rollup and forward run, and the retention prune. */
export const SYNC_INTERVAL_MS = 3_600_000;
export const PRUNE_INTERVAL_MS = 3_600_000;
/** A session idle this long is no longer active (and its row is pruned). */
export const SESSION_IDLE_MS = 30 * 60_000;
const DAY_MS = 86_400_000;

/** A day's figures per event type and page path, exact from raw events (the day's range: ?, ?). */
const DAILY = `WITH day AS (SELECT session_id, user_hash, event_type, page_path, timestamp FROM raw_events WHERE timestamp >= ? AND timestamp < ?),
  dur AS (SELECT session_id, (max(timestamp) - min(timestamp)) / 1000.0 AS d FROM day GROUP BY session_id),
  per AS (SELECT event_type, page_path, session_id, count(*) AS n FROM day GROUP BY event_type, page_path, session_id),
  agg AS (SELECT per.event_type, per.page_path, sum(per.n) AS total, count(*) AS sessions, avg(dur.d) AS avg_d
    FROM per JOIN dur USING (session_id) GROUP BY per.event_type, per.page_path),
  users AS (SELECT event_type, page_path, count(DISTINCT user_hash) AS u FROM day GROUP BY event_type, page_path)
  INSERT INTO daily_aggregates (date, day_start, event_type, page_path, total_events, unique_sessions, unique_users, avg_session_duration)
  SELECT ?, ?, agg.event_type, agg.page_path, agg.total, agg.sessions, users.u, agg.avg_d
    FROM agg JOIN users USING (event_type, page_path) WHERE true
  ON CONFLICT (date, event_type, page_path) DO UPDATE SET total_events = excluded.total_events,
    unique_sessions = excluded.unique_sessions, unique_users = excluded.unique_users,
    avg_session_duration = excluded.avg_session_duration`;
/** A day's figures per event type: what GlobalAnalytics receives. Unchanged rows are not rewritten (no change to send). */
const ROLLUP = `INSERT INTO region_rollups (date, event_type, total_events, unique_sessions, unique_users)
  SELECT ?, event_type, count(*), count(DISTINCT session_id), count(DISTINCT user_hash)
    FROM raw_events WHERE timestamp >= ? AND timestamp < ? GROUP BY event_type
  ON CONFLICT (date, event_type) DO UPDATE SET total_events = excluded.total_events,
    unique_sessions = excluded.unique_sessions, unique_users = excluded.unique_users
  WHERE total_events IS NOT excluded.total_events OR unique_sessions IS NOT excluded.unique_sessions
    OR unique_users IS NOT excluded.unique_users`;

/**
 * The analytics of one region (the actor's name: us, eu, apac), privacy first: raw events with
 * their PII (user id, IP) stay in this actor and are pruned after the retention; user ids are also
 * kept as an HMAC-SHA-256 under ANALYTICS_SALT; minute aggregates and active sessions are updated
 * in the same transaction as each event; an hourly schedule recomputes the daily aggregates and the
 * per-day region rollups exactly from raw events, and the `global` forward sends only the rollups
 * (date, event type, three counts) to GlobalAnalytics. Daily aggregates are archived to R2 Parquet
 * under `analytics/<region>/daily_aggregates/` and read back by `historical`.
 */
export class RegionalAnalytics extends SqlActor<Env, typeof schema> {
  /** Its export name, kept when a minifier renames the class (src/export-name.ts). */
  static override readonly exportName: string = "RegionalAnalytics";
  static override config: ActorConfig<typeof schema> = defineActor({
    schema,
    migrations,
    // Only region_rollups is captured: the change feed the forward reads holds aggregates alone.
    history: history({ tables: ["region_rollups"], retain: "30d" }),
    fleet: fleet("analytics"),
    forward: forward([
      {
        name: "global",
        tables: ["region_rollups"],
        // The allowlist: aggregates only. No raw_events column, no hash, no id, no path, no IP.
        columns: { region_rollups: ROLLUP_COLUMNS },
        to: { actor: "GLOBAL_ANALYTICS", name: "global", method: "applyRollups" },
        batch: { size: 500, maxWaitMs: 5_000 },
      },
    ]),
    tiering: tiering({
      prefix: "analytics",
      archive: [
        {
          table: "daily_aggregates",
          timeColumn: "day_start",
          // Longer than the late window (7 days): an archived day never receives an event again.
          olderThan: "14d",
          partition: "month",
          every: "30 3 * * *",
        },
      ],
    }),
  });

  #hasher: Promise<UserHasher> | undefined;
  /** Facts read once from analytics_state and kept in step with it (this object is their only writer). */
  #startedKnown = false;
  #floor: number | undefined;
  #minuteStart = Number.NaN;
  #minuteText = "";

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Regions never written get no schedule (ingest adds them with the first event).
    if (this.#started()) this.#scheduleTasks();
  }

  /**
   * One event or a batch of up to 1,000, in one transaction. A bad event is reported by its index
   * (every bad one, in `details.errors`) and nothing of the batch is written, unless
   * `options.partial` is true: then the valid events are written and the bad ones listed in `rejected`.
   */
  async ingest(input: EventInput | EventInput[], options: IngestOptions = {}): Promise<IngestResult> {
    const { partial } = ingestOptionsOf(options);
    const list = Array.isArray(input) ? input : [input];
    if (list.length === 0 || list.length > MAX_BATCH)
      throw new ActorError("VALIDATION_FAILED", `a batch holds 1 to ${MAX_BATCH} events`, { max: MAX_BATCH });
    const now = Date.now();
    const floor = Math.max(now - LATE_WINDOW_MS, this.#prunedBefore());
    const ceiling = now + FUTURE_SKEW_MS;
    const errors: EventError[] = [];
    const valid: Event[] = [];
    for (let index = 0; index < list.length; index++) {
      const checked = checkEvent(list[index]);
      if (isIssue(checked)) errors.push({ index, path: checked.path, message: checked.message });
      else if (checked.at > ceiling)
        errors.push({ index, path: "timestamp", message: "must not be more than 5 minutes in the future" });
      else if (checked.at < floor)
        errors.push({
          index,
          path: "timestamp",
          message: `must not be older than ${new Date(floor).toISOString()} (the late window and the retention)`,
        });
      else valid.push(checked);
    }
    if (errors.length > 0 && !partial) throw invalidEvents(errors, list.length);
    const hasher = await this.#userHasher();
    if (valid.length > 0) {
      const hashes = await hasher.hashAll(valid);
      if (!this.#started()) await registerName(this.env, "analytics", this.name);
      const at = Date.now();
      this.transaction(() => {
        if (!this.#started()) {
          this.#setState("started", String(at));
          this.#scheduleTasks();
        }
        if (valid.length === 1) this.#write(valid[0], hashes[0], at);
        else this.#writeAll(valid, hashes, at);
      });
    }
    return { region: this.name, accepted: valid.length, rejected: errors };
  }

  /** Figures of the last hour, day, week or month (30 days), per event type and in total. */
  queryRange(input: QueryInput = {}): QueryResult {
    const { range = "day", eventType } = parseInput(queryInput, input ?? {});
    const now = Date.now();
    const fromMinute = minuteOf(now - RANGES[range]);
    const from = Date.parse(`${fromMinute}:00Z`);
    const result = emptyQuery(this.name, range, from, now);
    const typeFilter = eventType === undefined ? "" : " AND event_type = ?";
    const params = eventType === undefined ? [] : [eventType];
    const events = this.database.query<{ eventType: string; totalEvents: number }>(
      `SELECT event_type AS eventType, sum(event_count) AS totalEvents FROM minute_aggregates
       WHERE minute >= ?${typeFilter} GROUP BY event_type`,
      [fromMinute, ...params],
    );
    const uniques = this.database.query<{ eventType: string; uniqueSessions: number; uniqueUsers: number }>(
      `SELECT event_type AS eventType, count(DISTINCT session_id) AS uniqueSessions,
         count(DISTINCT user_hash) AS uniqueUsers FROM raw_events WHERE timestamp >= ?${typeFilter} GROUP BY event_type`,
      [from, ...params],
    );
    const byType = new Map(uniques.map((u) => [u.eventType, u]));
    result.metrics = events
      .map((e) => ({
        eventType: e.eventType,
        totalEvents: e.totalEvents,
        uniqueSessions: byType.get(e.eventType)?.uniqueSessions ?? 0,
        uniqueUsers: byType.get(e.eventType)?.uniqueUsers ?? 0,
      }))
      .sort((a, b) => b.totalEvents - a.totalEvents || (a.eventType < b.eventType ? -1 : 1));
    const [total] = this.database.query<{ uniqueSessions: number; uniqueUsers: number }>(
      `SELECT count(DISTINCT session_id) AS uniqueSessions, count(DISTINCT user_hash) AS uniqueUsers
       FROM raw_events WHERE timestamp >= ?${typeFilter}`,
      [from, ...params],
    );
    result.totals = {
      totalEvents: result.metrics.reduce((n, m) => n + m.totalEvents, 0),
      uniqueSessions: total?.uniqueSessions ?? 0,
      uniqueUsers: total?.uniqueUsers ?? 0,
    };
    return result;
  }

  /** The last 5 minutes by minute, event type and path, and the sessions active in the last 30 minutes. */
  realtime(): RealtimeResult {
    const now = Date.now();
    const result = emptyRealtime(this.name, now);
    result.recentMetrics = this.database.query(
      `SELECT minute, event_type AS eventType, page_path AS pagePath, event_count AS eventCount,
         unique_sessions AS uniqueSessions, unique_users AS uniqueUsers
       FROM minute_aggregates WHERE minute >= ? ORDER BY minute DESC, event_count DESC, event_type, page_path`,
      [minuteOf(now - 5 * 60_000)],
    );
    const [row] = this.database.query<{ n: number }>(
      "SELECT count(*) AS n FROM active_sessions WHERE last_seen >= ?",
      [now - SESSION_IDLE_MS],
    );
    result.activeSessions = row?.n ?? 0;
    return result;
  }

  /**
   * Daily figures from `start` to `end` (UTC days, inclusive): the archived Parquet files on R2
   * together with the daily aggregates still in SQLite (as of the last rollup).
   */
  async historical(input: HistoricalInput): Promise<HistoricalResult> {
    const { start, end, eventType } = parseInput(historicalInput, input);
    const params: unknown[] = [dayStart(start), dayStart(end)];
    if (eventType !== undefined) params.push(eventType);
    const rows = await this.tiering.unionQuery<DailyRow>(
      "daily_aggregates",
      `SELECT date, event_type AS eventType, page_path AS pagePath, total_events AS totalEvents,
         unique_sessions AS uniqueSessions, unique_users AS uniqueUsers, avg_session_duration AS avgSessionDuration
       FROM daily_aggregates WHERE day_start >= ? AND day_start <= ?${eventType === undefined ? "" : " AND event_type = ?"}
       ORDER BY date, event_type, page_path`,
      params,
    );
    const totals = new Map<string, { date: string; eventType: string; totalEvents: number }>();
    for (const r of rows) {
      const key = `${r.date}\u0000${r.eventType}`;
      const t = totals.get(key) ?? { date: r.date, eventType: r.eventType, totalEvents: 0 };
      t.totalEvents += r.totalEvents;
      totals.set(key, t);
    }
    return { region: this.name, start, end, days: rows, totals: [...totals.values()] };
  }

  /**
   * Recompute the daily aggregates and region rollups of every day that received events since the
   * last rollup, exactly from raw events (the present day included, updated again by later runs).
   */
  rollup(): RollupResult {
    return this.transaction(() => {
      const watermark = Number(this.#state("rolled_up_to") ?? 0);
      const [{ top }] = this.database.query<{ top: number | null }>("SELECT max(id) AS top FROM raw_events");
      if (top === null || top <= watermark) return { days: [], changed: 0 };
      const days = this.database
        .query<{ date: string }>(
          "SELECT DISTINCT substr(minute, 1, 10) AS date FROM raw_events WHERE id > ? ORDER BY date",
          [watermark],
        )
        .map((r) => r.date);
      let changed = 0;
      for (const date of days) {
        const from = dayStart(date);
        const to = from + DAY_MS;
        this.database.query(DAILY, [from, to, date, from]);
        changed += this.run(ROLLUP, [date, from, to]).changes;
      }
      this.#setState("rolled_up_to", String(top));
      return { days, changed };
    });
  }

  /**
   * The rollup, then the forward to GlobalAnalytics now (what the schedule and the admin sync route
   * run). A forward parked after an outage of GlobalAnalytics is taken back into service here, so
   * delivery resumes by itself within the hour.
   */
  async sync(): Promise<SyncResult> {
    const rollup = this.rollup();
    const [status] = await this.flushForward("global");
    const forward = status.state === "parked" ? await this.resumeForward("global") : status;
    return { region: this.name, rollup, forward: [forward] };
  }

  /**
   * Delete raw events and minute aggregates older than the retention (ANALYTICS_RETENTION_DAYS,
   * default 30; an admin may pass a shorter `retentionDays` for one run) and sessions idle for 30
   * minutes. The cutoff is a day boundary; events before it are refused from then on, so a day is
   * never recomputed from a partial set of events. Daily aggregates and rollups are kept.
   */
  prune(input: PruneInput = {}): PruneResult {
    const { retentionDays: asked } = parseInput(pruneInput, input ?? {});
    const now = Date.now();
    const days = asked ?? retentionDays(this.env);
    const cutoff = dayStart(dayOf(now - days * DAY_MS));
    // Roll up first, so no event is pruned before its day's figures were computed.
    this.rollup();
    try {
      return this.#pruneBefore(cutoff, now);
    } finally {
      // Read the floor again after the commit (a rolled-back prune leaves the old one).
      this.#floor = undefined;
    }
  }

  #pruneBefore(cutoff: number, now: number): PruneResult {
    return this.transaction(() => {
      const rawEvents = this.run("DELETE FROM raw_events WHERE timestamp < ?", [cutoff]).changes;
      const minuteAggregates = this.run("DELETE FROM minute_aggregates WHERE minute < ?", [
        minuteOf(cutoff),
      ]).changes;
      // The buckets' counted sessions and users go with their raw events.
      this.run("DELETE FROM minute_members WHERE minute < ?", [minuteOf(cutoff)]);
      const sessions = this.run("DELETE FROM active_sessions WHERE last_seen < ?", [
        now - SESSION_IDLE_MS,
      ]).changes;
      if (cutoff > this.#prunedBefore()) this.#setState("pruned_before", String(cutoff));
      return { rawEvents, minuteAggregates, sessions, cutoff };
    });
  }

  /**
   * Archive daily aggregates of days before `before` now (the schedule archives those older than
   * 14 days). Only closed days: one the late window can still send events to would be recomputed
   * into a hot row by the next rollup and counted twice (hot and archived) by `historical`.
   */
  async archiveDaily(input: ArchiveInput = {}): Promise<{ done: boolean; rows: number }> {
    const { before } = parseInput(archiveInput, input ?? {});
    const firstOpen = dayOf(Date.now() - LATE_WINDOW_MS);
    if (before !== undefined && before > firstOpen)
      throw new ActorError(
        "VALIDATION_FAILED",
        `before must be ${firstOpen} or earlier: later days can still receive events (the ${LATE_WINDOW_MS / DAY_MS}-day late window)`,
        { path: "before", latest: firstOpen },
      );
    // Every accepted event of the closed days in their figures before they leave SQLite.
    this.rollup();
    const olderThan = before === undefined ? "14d" : dayStart(before);
    const result = await this.tiering.archive({
      table: "daily_aggregates",
      timeColumn: "day_start",
      olderThan,
      partition: "month",
    });
    return { done: result.done, rows: result.rows };
  }

  /** One event: its raw row, whose trigger (migration 0003) updates its bucket, the bucket's members and its session. */
  #write(e: Event, userHash: string | null, now: number): void {
    const raw = this.#row(e, userHash, this.#minute(e.at));
    raw.push(now); // RAW's last parameter, ingested_at
    this.query(RAW, raw);
  }

  /**
   * A batch: its raw rows in one statement over the batch as one bound JSON array (ingest-sql.ts
   * RAWS), in its order, so the trigger leaves the same figures as `#write` once per event.
   */
  #writeAll(events: readonly Event[], userHashes: readonly (string | null)[], now: number): void {
    const rows: unknown[][] = new Array(events.length);
    for (let i = 0; i < events.length; i++) {
      rows[i] = this.#row(events[i], userHashes[i], this.#minute(events[i].at));
    }
    this.query(RAWS, [JSON.stringify(rows), now]);
  }

  /** An event's raw_events fields (`eventRow`): a batch row, and the single-event RAW's parameters before ingested_at. */
  #row(e: Event, userHash: string | null, minute: string): unknown[] {
    return eventRow(
      e.sessionId,
      e.userId,
      userHash,
      e.ipAddress,
      e.userAgent,
      e.eventType,
      e.data,
      e.pageUrl,
      e.path,
      e.referrer,
      e.at,
      minute,
    );
  }

  /** minuteOf(at), the last minute's text remembered (the events of a call mostly share one minute). */
  #minute(at: number): string {
    const start = at - (at % 60_000);
    if (start !== this.#minuteStart) {
      this.#minuteStart = start;
      this.#minuteText = minuteOf(start);
    }
    return this.#minuteText;
  }

  /** The hasher under the configured salt (or, in development, this actor's generated one). */
  #userHasher(): Promise<UserHasher> {
    if (this.#hasher) return this.#hasher;
    const source = configuredSalt(this.env);
    if ("salt" in source) {
      this.#hasher ??= Promise.resolve(new UserHasher(source.salt));
      return this.#hasher;
    }
    this.#hasher ??= Promise.resolve().then(() => {
      let salt = this.#state("dev_salt");
      if (salt === undefined) {
        salt = generateSalt();
        this.#setState("dev_salt", salt);
      }
      console.warn(
        `dosql-actors: RegionalAnalytics ${this.name}: ANALYTICS_SALT is not set; user ids are hashed with a generated development salt kept in this actor (development mode only)`,
      );
      return new UserHasher(salt);
    });
    return this.#hasher;
  }

  #scheduleTasks(): void {
    this.schedule.every(SYNC_INTERVAL_MS, "sync", undefined, { key: "analytics:sync" });
    this.schedule.every(PRUNE_INTERVAL_MS, "prune", undefined, { key: "analytics:prune" });
  }

  /** Whether this region has ever been written (false too when the database could not start). */
  #started(): boolean {
    if (this.#startedKnown) return true;
    try {
      this.#startedKnown = this.#state("started") !== undefined;
    } catch {
      return false;
    }
    return this.#startedKnown;
  }

  #prunedBefore(): number {
    this.#floor ??= Number(this.#state("pruned_before") ?? 0);
    return this.#floor;
  }

  #state(key: string): string | undefined {
    return this.database.query<{ value: string }>("SELECT value FROM analytics_state WHERE key = ?", [key])[0]
      ?.value;
  }

  #setState(key: string, value: string): void {
    this.database.query(
      "INSERT INTO analytics_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      [key, value],
    );
  }
}
