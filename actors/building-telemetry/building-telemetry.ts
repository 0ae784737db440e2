import migrations from "../../migrations/building-telemetry/migrations.js";
import type { ActorConnection } from "../../src/broadcast";
import { registerName } from "../../src/coordinator/directory";
import { parseInput } from "../../src/coordinator/validate";
import { type ActorConfig, defineActor } from "../../src/define-actor";
import { parseDuration } from "../../src/duration";
import { ActorError } from "../../src/errors";
import { fleet } from "../../src/fleet/part";
import { forward } from "../../src/forward/index";
import type { ForwardStatus } from "../../src/forward/types";
import { history } from "../../src/history/index";
import { caller, rpc } from "../../src/rpc/index";
import { SqlActor } from "../../src/sql-actor";
import type { ArchiveResult } from "../../src/tiering/archive";
import { tiering } from "../../src/tiering/index";
import { alertNotActive, alertNotFound, badReading, buildingNotFound, ruleNotFound } from "./errors";
import { INSERT_MANY, INSERT_ONE, JSON_CHUNK, MARK_PENDING, MINUTE_MANY, MINUTE_ONE } from "./ingest-sql";
import {
  type AcknowledgeInput,
  acknowledgeInput,
  batchInput,
  type ConfigureInput,
  checkReading,
  configureInput,
  type HistoricalInput,
  historicalInput,
  MAX_BATCH,
  type QueryInput,
  queryInput,
  type Reading,
  type ReadingInput,
  type RealtimeInput,
  type RuleInput,
  type RuleUpdateInput,
  realtimeInput,
  ruleInput,
  ruleUpdateInput,
  toMs,
} from "./inputs";
import { type AlertRule, alertKey, breach, RuleIndex } from "./rules";
import type { AlertStatus, SensorType, Severity } from "./schema";
import * as schema from "./schema";

export type { AlertRule } from "./rules";

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Defaults of the use case: raw 24 h, minute aggregates 7 days, hourly 30 days. */
export const DEFAULT_RETENTION = { raw: DAY, minute: 7 * DAY, hourly: 30 * DAY };
/** Resolved alerts stay in active_alerts this long, then move to alert_history. */
const RESOLVED_KEPT_MS = DAY;
/** How often minute aggregates are rolled into hourly ones (and so forwarded), and the lifecycle runs. */
export const ROLLUP_EVERY_MS = 5 * MINUTE;
export const LIFECYCLE_EVERY_MS = HOUR;
/** Where hourly rollups go: the central actor (CentralTelemetry) bound as CENTRAL_TELEMETRY. */
export const CENTRAL = { binding: "CENTRAL_TELEMETRY", name: "central" } as const;
const MAX_ROWS = 100_000;

export interface Alert {
  id: number;
  ruleId: number;
  sensorId: string;
  sensorType: SensorType;
  triggerValue: number;
  thresholdValue: number;
  severity: Severity;
  status: AlertStatus;
  triggeredAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  resolvedReason: string | null;
}

export interface IngestResult {
  success: true;
  ingested: number;
  /** Alerts this call raised. */
  alerts: { id: number; ruleId: number; sensorId: string; severity: Severity }[];
  /** Alerts this call resolved (their readings came back in range). */
  resolved: number[];
}

export interface AggregatePoint {
  sensorId: string;
  sensorType: string;
  timestamp: string;
  avg: number;
  min: number;
  max: number;
  count: number;
}

export interface HistoricalPoint {
  sensorId: string;
  day: string;
  avg: number;
  min: number;
  max: number;
  count: number;
}

export interface LifecycleResult {
  rolledUp: { hours: number; rows: number };
  archive: { rows: number; files: number; done: boolean } | { error: string };
  deleted: { minute: number; hourly: number };
  alertsToHistory: number;
}

export interface Retention {
  raw: number;
  minute: number;
  hourly: number;
}

type Event = { type: "alert" | "alert-resolved" | "alert-acknowledged"; data: Alert };

const ALERT_COLUMNS = `id, rule_id AS ruleId, sensor_id AS sensorId, sensor_type AS sensorType,
  trigger_value AS triggerValue, threshold_value AS thresholdValue, severity, status, triggered_at AS triggeredAt,
  acknowledged_at AS acknowledgedAt, acknowledged_by AS acknowledgedBy, resolved_at AS resolvedAt,
  resolved_reason AS resolvedReason`;
const RULE_COLUMNS = `id, sensor_id AS sensorId, sensor_type AS sensorType, condition, threshold_value AS thresholdValue,
  threshold_min AS thresholdMin, threshold_max AS thresholdMax, severity, cooldown_seconds AS cooldownSeconds,
  enabled, created_at AS createdAt, updated_at AS updatedAt`;

/** Adds to each hour only what its minutes gained since the last rollup (exactly once). */
const ROLL_HOUR = `INSERT INTO hourly_aggregates (sensor_id, sensor_type, hour, min_value, max_value, avg_value, sum_value, reading_count)
  SELECT sensor_id, min(sensor_type), ?, min(min_value), max(max_value),
    sum(sum_value - rolled_sum) / sum(count - rolled_count), sum(sum_value - rolled_sum), sum(count - rolled_count)
  FROM minute_aggregates WHERE minute >= ? AND minute < ? AND count > rolled_count GROUP BY sensor_id
  ON CONFLICT (sensor_id, hour) DO UPDATE SET
    min_value = min(min_value, excluded.min_value),
    max_value = max(max_value, excluded.max_value),
    sum_value = sum_value + excluded.sum_value,
    reading_count = reading_count + excluded.reading_count,
    avg_value = (sum_value + excluded.sum_value) / (reading_count + excluded.reading_count)`;
const MARK_ROLLED = `UPDATE minute_aggregates SET rolled_sum = sum_value, rolled_count = count
  WHERE minute >= ? AND minute < ? AND count > rolled_count`;

/**
 * The actor's config. `archiveBinding` names the R2 binding raw readings are archived to;
 * `central: false` leaves out the outbox to CentralTelemetry (and the history it stands on).
 */
export function buildingConfig(options: { archiveBinding?: string; central?: boolean } = {}) {
  const parts = {
    schema,
    migrations,
    // Dashboards get alert frames, not presence events.
    connections: { presence: false },
    // RPC on the alerts socket (`{ id, method, args }`, beside its alert frames): the reads are
    // public as over HTTP; acknowledging is for operators (admin).
    rpc: rpc({
      methods: {
        queryAggregates: "public",
        realtime: "public",
        historical: "public",
        activeAlerts: "public",
        listRules: "public",
        acknowledge: "admin",
      },
    }),
    tiering: tiering({ binding: options.archiveBinding ?? "ARCHIVE", prefix: "telemetry" }),
    fleet: fleet("buildings"),
  };
  if (options.central === false) return defineActor(parts);
  return defineActor({
    ...parts,
    // Only the hourly rollups are captured: they are what the central actor receives (the outbox).
    history: history({ tables: ["hourly_aggregates"], retain: "7d" }),
    forward: forward([
      {
        name: "central",
        tables: ["hourly_aggregates"],
        // Retention deletes old hours here; the central actor keeps its own.
        where: (change) => change.op !== "delete",
        to: { actor: CENTRAL.binding, name: CENTRAL.name, method: "applyRollups" },
        batch: { size: 500, maxWaitMs: 1_000 },
      },
    ]),
  });
}

/**
 * The telemetry of one building (the actor's name): raw readings with minute aggregates written
 * in the same transaction, alert rules evaluated in memory on every reading (cooldown per rule
 * and sensor, automatic resolution), an alert WebSocket for dashboards, hourly rollups forwarded
 * to CentralTelemetry, and a lifecycle that archives raw readings to R2 Parquet by day before they
 * leave SQLite. See README.md.
 */
export class BuildingTelemetry extends SqlActor<Env, typeof schema> {
  /** Its export name, kept when a minifier renames the class (src/export-name.ts). */
  static override readonly exportName: string = "BuildingTelemetry";
  static override config: ActorConfig<typeof schema> = buildingConfig();

  /** Enabled rules by type; undefined until first needed, and after a rule changed. */
  #rules: RuleIndex | undefined;
  /** Open (ACTIVE or ACKNOWLEDGED) alert per rule and sensor, and the last time each raised one. */
  #open: Map<string, number> | undefined;
  #lastRaised = new Map<string, number>();
  /** Hours known to be in rollup_pending (so a reading of such an hour writes no marker again). */
  readonly #pendingHours = new Set<number>();
  /** The hourly retention and the lifecycle's latest hourly cutoff (read once, again after a change). */
  #hoursKept: { retention: number; droppedBefore: number } | undefined;
  #exists: boolean;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#exists = this.#readExists();
    // Idempotent by key: asserting them on every wake never adds a task. Unknown buildings get none.
    if (this.#exists) this.#scheduleLifecycle();
  }

  // ---- ingest ----

  /** One reading: stored, aggregated and checked against the rules in one transaction. */
  async ingest(reading: ReadingInput): Promise<IngestResult> {
    const now = Date.now();
    const one = [valid(reading, 0, now)];
    this.#assertHoursKept(one, now);
    if (!this.#exists) await this.#ensureBuilding();
    else this.assertReady();
    return this.#store(one, now);
  }

  /** Up to 5,000 readings in one transaction; one bad reading refuses the batch, naming its index. */
  async ingestBatch(readings: ReadingInput[]): Promise<IngestResult> {
    // Not a list of 1–5,000: batchInput's VALIDATION_FAILED (checked by hand first: a batch is not copied).
    if (!Array.isArray(readings) || readings.length < 1 || readings.length > MAX_BATCH)
      parseInput(batchInput, readings);
    const now = Date.now();
    const list = new Array<Reading>(readings.length);
    for (let i = 0; i < readings.length; i++) list[i] = valid(readings[i], i, now);
    this.#assertHoursKept(list, now);
    if (!this.#exists) await this.#ensureBuilding();
    else this.assertReady();
    return this.#store(list, now);
  }

  /**
   * Refuse a reading whose hour is past the hourly retention, or before the lifecycle's latest
   * hourly cutoff: the lifecycle may have dropped that hour here already, and rolling the reading
   * up would start it again from this reading alone, which the central actor (it replaces an hour
   * with the building's figures) would take for the whole hour. The lifecycle drops hours before
   * `now - retention`, so any hour from there is kept; a retention lengthened later does not bring
   * back the hours dropped under the shorter one (hence the stored cutoff).
   */
  #assertHoursKept(readings: Reading[], now: number): void {
    const floor = this.#hoursKeptFloor(now);
    for (let i = 0; i < readings.length; i++) {
      const ts = readings[i].ts;
      if (ts - (ts % HOUR) < floor)
        throw badReading(
          i,
          "timestamp",
          "is older than the building's hourly retention (its hour is no longer kept)",
        );
    }
  }

  /**
   * The start of the oldest hour still kept at `now`: from the hourly retention and the stored
   * cutoff (read once per instance, and again after `configure` or a lifecycle).
   */
  #hoursKeptFloor(now: number): number {
    if (this.#hoursKept === undefined) {
      const [row] = this.#exists
        ? this.query<{ retention: number; droppedBefore: number }>(
            "SELECT hourly_retention_ms AS retention, hourly_dropped_before AS droppedBefore FROM building",
          )
        : [];
      this.#hoursKept = row ?? { retention: DEFAULT_RETENTION.hourly, droppedBefore: 0 };
    }
    return Math.max(now - this.#hoursKept.retention, this.#hoursKept.droppedBefore);
  }

  #store(readings: Reading[], now: number): IngestResult {
    const result: IngestResult = { success: true, ingested: readings.length, alerts: [], resolved: [] };
    const events: Event[] = [];
    this.#loadAlertState();
    try {
      const rules = this.#ruleIndex();
      this.transaction(() => {
        this.#insertReadings(readings, now);
        this.#upsertMinutes(readings);
        if (rules.size === 0) return;
        // In time order (a stable sort: equal times keep the batch's order): a breach listed after a
        // newer reading back in range would otherwise raise an alert that stays open, and the
        // alerts of a batch would depend on how the gateway ordered it.
        for (const r of inTimeOrder(readings)) {
          const ofType = rules.ofType(r.sensorType);
          if (ofType) this.#evaluate(r, ofType, result, events);
        }
      });
    } catch (err) {
      // The in-memory alert state may hold what was rolled back: read it again.
      this.#open = undefined;
      this.#pendingHours.clear();
      throw err;
    }
    for (const event of events) this.broadcast(event);
    return result;
  }

  #insertReadings(readings: Reading[], now: number): void {
    if (readings.length === 1) {
      const r = readings[0];
      this.query(INSERT_ONE, [r.sensorId, r.sensorType, r.value, r.unit, r.quality, r.ts, now]);
      return;
    }
    for (let i = 0; i < readings.length; i += JSON_CHUNK) {
      const rows = readings
        .slice(i, i + JSON_CHUNK)
        .map((r) => [r.sensorId, r.sensorType, r.value, r.unit, r.quality, r.ts]);
      this.query(INSERT_MANY, [now, JSON.stringify(rows)]);
    }
  }

  /** One upsert per sensor and minute of the batch (grouped here first), and the hours to roll up. */
  #upsertMinutes(readings: Reading[]): void {
    type Group = [string, string, number, number, number, number, number, number];
    const groups = new Map<string, Group>();
    for (const r of readings) {
      const minute = r.ts - (r.ts % MINUTE);
      const key = `${r.sensorId}\u0000${minute}`;
      const g = groups.get(key);
      // [sensor, type, minute, min, max, sum, count, quality sum → average below]
      if (!g) groups.set(key, [r.sensorId, r.sensorType, minute, r.value, r.value, r.value, 1, r.quality]);
      else {
        if (r.value < g[3]) g[3] = r.value;
        if (r.value > g[4]) g[4] = r.value;
        g[5] += r.value;
        g[6] += 1;
        g[7] += r.quality;
      }
      const hour = r.ts - (r.ts % HOUR);
      if (!this.#pendingHours.has(hour)) {
        this.query(MARK_PENDING, [hour]);
        this.#pendingHours.add(hour);
      }
    }
    const rows = [...groups.values()];
    for (const g of rows) g[7] = g[7] / g[6];
    if (rows.length === 1) {
      this.query(MINUTE_ONE, rows[0]);
      return;
    }
    for (let i = 0; i < rows.length; i += JSON_CHUNK)
      this.query(MINUTE_MANY, [JSON.stringify(rows.slice(i, i + JSON_CHUNK))]);
  }

  // ---- alerts ----

  /**
   * Check one reading against its rules. Per rule and sensor at most one alert is open: a breach
   * with an open alert raises nothing; without one, it raises a new alert unless the last alert of
   * that rule and sensor was raised less than `cooldownSeconds` before (reading time). A reading
   * back in range, taken at or after the alert was raised, resolves the open alert of that rule
   * and sensor.
   */
  #evaluate(r: Reading, rules: readonly AlertRule[], result: IngestResult, events: Event[]): void {
    const open = this.#open!;
    for (const rule of rules) {
      if (rule.sensorId !== null && rule.sensorId !== r.sensorId) continue;
      const key = alertKey(rule.id, r.sensorId);
      const crossed = breach(rule, r.value);
      const openId = open.get(key);
      if (crossed === undefined) {
        if (openId === undefined) continue;
        // A back-filled reading taken before the alert was raised says nothing about now.
        if (r.ts < (this.#lastRaised.get(key) ?? Number.NEGATIVE_INFINITY)) continue;
        const alert = this.#resolve(openId, r.ts, "back in range");
        open.delete(key);
        result.resolved.push(openId);
        events.push({ type: "alert-resolved", data: alert });
        continue;
      }
      if (openId !== undefined) continue;
      const last = this.#lastRaised.get(key);
      if (last !== undefined && r.ts - last < rule.cooldownSeconds * 1000) continue;
      const [alert] = this.query<AlertRow>(
        `INSERT INTO active_alerts (rule_id, sensor_id, sensor_type, trigger_value, threshold_value, severity, status, triggered_at)
         VALUES (?, ?, ?, ?, ?, ?, 'ACTIVE', ?) RETURNING ${ALERT_COLUMNS}`,
        [rule.id, r.sensorId, r.sensorType, r.value, crossed, rule.severity, r.ts],
      );
      open.set(key, alert.id);
      this.#lastRaised.set(key, r.ts);
      result.alerts.push({ id: alert.id, ruleId: rule.id, sensorId: r.sensorId, severity: rule.severity });
      events.push({ type: "alert", data: toAlert(alert) });
    }
  }

  #resolve(id: number, at: number, reason: string): Alert {
    const [row] = this.query<AlertRow>(
      `UPDATE active_alerts SET status = 'RESOLVED', resolved_at = ?, resolved_reason = ? WHERE id = ? RETURNING ${ALERT_COLUMNS}`,
      [at, reason, id],
    );
    return toAlert(row);
  }

  /** Open alerts and last raise times, read once per instance (and after a rolled-back write). */
  #loadAlertState(): void {
    if (this.#open) return;
    const open = new Map<string, number>();
    const last = new Map<string, number>();
    for (const row of this.query<{
      ruleId: number;
      sensorId: string;
      id: number;
      status: string;
      at: number;
    }>(
      "SELECT rule_id AS ruleId, sensor_id AS sensorId, id, status, triggered_at AS at FROM active_alerts ORDER BY id",
    )) {
      const key = alertKey(row.ruleId, row.sensorId);
      if (row.status !== "RESOLVED") open.set(key, row.id);
      if ((last.get(key) ?? -Infinity) < row.at) last.set(key, row.at);
    }
    this.#open = open;
    this.#lastRaised = last;
  }

  #ruleIndex(): RuleIndex {
    this.#rules ??= new RuleIndex(this.#readRules());
    return this.#rules;
  }

  #readRules(): AlertRule[] {
    return this.query<Omit<AlertRule, "enabled"> & { enabled: number | boolean }>(
      `SELECT ${RULE_COLUMNS} FROM alert_rules ORDER BY id`,
    ).map((r) => ({ ...r, enabled: r.enabled === 1 || r.enabled === true }));
  }

  /** A new alert rule (per sensor with `sensorId`, else for every sensor of the type). */
  async createRule(input: RuleInput): Promise<AlertRule> {
    const r = parseInput(ruleInput, input);
    await this.#ensureBuilding();
    const now = Date.now();
    const [row] = this.query<{ id: number }>(
      `INSERT INTO alert_rules (sensor_id, sensor_type, condition, threshold_value, threshold_min, threshold_max, severity, cooldown_seconds, enabled, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      [
        r.sensorId ?? null,
        r.sensorType,
        r.condition,
        r.condition === "range_outside" ? null : (r.thresholdValue ?? null),
        r.condition === "range_outside" ? (r.thresholdMin ?? null) : null,
        r.condition === "range_outside" ? (r.thresholdMax ?? null) : null,
        r.severity ?? "warning",
        r.cooldownSeconds ?? 300,
        r.enabled === false ? 0 : 1,
        now,
        now,
      ],
    );
    this.#rules = undefined;
    return this.#rule(row.id);
  }

  listRules(): { rules: AlertRule[] } {
    this.#assertExists();
    return { rules: this.#readRules() };
  }

  /**
   * Change a rule (any field; `enabled: false` disables it). Its open alerts are checked against
   * the new rule by the next readings; a disabled rule's open alerts are resolved ("rule disabled"),
   * and so are those of sensors it no longer watches, its sensor or type changed ("rule changed").
   */
  updateRule(input: RuleUpdateInput): AlertRule {
    const { id, ...changes } = parseInput(ruleUpdateInput, input);
    this.#assertExists();
    const current = this.#readRules().find((r) => r.id === id);
    if (!current) throw ruleNotFound(id);
    const merged = { ...current, ...definedOnly(changes) };
    const next = parseInput(ruleInput, merged);
    const events: Event[] = [];
    this.#loadAlertState();
    try {
      this.transaction(() => {
        const range = next.condition === "range_outside";
        this.query(
          `UPDATE alert_rules SET sensor_id = ?, sensor_type = ?, condition = ?, threshold_value = ?, threshold_min = ?,
             threshold_max = ?, severity = ?, cooldown_seconds = ?, enabled = ?, updated_at = ? WHERE id = ?`,
          [
            next.sensorId ?? null,
            next.sensorType,
            next.condition,
            range ? null : (next.thresholdValue ?? null),
            range ? (next.thresholdMin ?? null) : null,
            range ? (next.thresholdMax ?? null) : null,
            next.severity ?? current.severity,
            next.cooldownSeconds ?? current.cooldownSeconds,
            next.enabled === false ? 0 : 1,
            Date.now(),
            id,
          ],
        );
        // An open alert of a sensor the rule no longer watches would never see a reading checked
        // against it again: resolve it (disabled, or moved to another sensor or type).
        const now = Date.now();
        for (const alert of this.query<{ id: number; sensorId: string; sensorType: string }>(
          "SELECT id, sensor_id AS sensorId, sensor_type AS sensorType FROM active_alerts WHERE rule_id = ? AND status != 'RESOLVED'",
          [id],
        )) {
          const watched =
            alert.sensorType === next.sensorType &&
            (next.sensorId == null || next.sensorId === alert.sensorId);
          if (next.enabled !== false && watched) continue;
          const reason = next.enabled === false ? "rule disabled" : "rule changed";
          events.push({ type: "alert-resolved", data: this.#resolve(alert.id, now, reason) });
          this.#open!.delete(alertKey(id, alert.sensorId));
        }
      });
    } catch (err) {
      this.#open = undefined;
      throw err;
    }
    this.#rules = undefined;
    for (const event of events) this.broadcast(event);
    return this.#rule(id);
  }

  #rule(id: number): AlertRule {
    const rule = this.#readRules().find((r) => r.id === id);
    if (!rule) throw ruleNotFound(id);
    return rule;
  }

  /** Open alerts (ACTIVE and ACKNOWLEDGED), most severe first, newest first. */
  activeAlerts(): { alerts: Alert[] } {
    this.#assertExists();
    return { alerts: this.#openAlerts() };
  }

  #openAlerts(): Alert[] {
    return this.query<AlertRow>(
      `SELECT ${ALERT_COLUMNS} FROM active_alerts WHERE status IN ('ACTIVE', 'ACKNOWLEDGED')
       ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, triggered_at DESC, id DESC`,
    ).map(toAlert);
  }

  /**
   * An operator takes an ACTIVE alert; it stays open until its readings come back in range.
   * The acknowledger recorded is the caller: in a socket call the user the Worker in front vouched
   * for (its role, "admin", when it vouched none), never the `userId` argument; over DO RPC the
   * `userId` the Worker with the binding states (the coordinator's route: its verified caller).
   */
  acknowledge(input: AcknowledgeInput): Alert {
    const { alertId, userId: stated } = parseInput(acknowledgeInput, input);
    const socket = caller();
    const userId = socket ? (socket.userId ?? socket.role) : stated;
    if (!userId) throw new ActorError("VALIDATION_FAILED", "userId: required");
    this.#assertExists();
    const [row] = this.query<AlertRow>(
      `UPDATE active_alerts SET status = 'ACKNOWLEDGED', acknowledged_at = ?, acknowledged_by = ?
       WHERE id = ? AND status = 'ACTIVE' RETURNING ${ALERT_COLUMNS}`,
      [Date.now(), userId, alertId],
    );
    if (!row) {
      const [found] = this.query<{ status: string }>("SELECT status FROM active_alerts WHERE id = ?", [
        alertId,
      ]);
      if (!found) throw alertNotFound(alertId);
      throw alertNotActive(alertId, found.status);
    }
    const alert = toAlert(row);
    this.broadcast({ type: "alert-acknowledged", data: alert });
    return alert;
  }

  /** Resolved alerts moved to history (newest first). */
  alertHistory(input: { limit?: number } = {}): { history: Record<string, SqlStorageValue>[] } {
    this.#assertExists();
    const limit = Math.min(Math.max(Number(input?.limit) || 100, 1), 1000);
    return { history: this.query("SELECT * FROM alert_history ORDER BY id DESC LIMIT ?", [limit]) };
  }

  // ---- the alerts socket ----

  override onJoin(connection: ActorConnection): void {
    this.connections.send(connection, JSON.stringify({ type: "init", data: { alerts: this.#openAlerts() } }));
  }

  // ---- queries (every value bound) ----

  /** Minute or hourly aggregates of the last `hours` (default 24), oldest first. */
  queryAggregates(input: QueryInput = {}): { data: AggregatePoint[]; truncated: boolean } {
    const { sensorId, sensorType, hours = 24, granularity = "minute" } = parseInput(queryInput, input ?? {});
    this.#assertExists();
    const hourly = granularity === "hour";
    const column = hourly ? "hour" : "minute";
    const since = Date.now() - hours * HOUR;
    const where = [`${column} >= ?`];
    const params: unknown[] = [since - (since % (hourly ? HOUR : MINUTE))];
    if (sensorId !== undefined) {
      where.push("sensor_id = ?");
      params.push(sensorId);
    }
    if (sensorType !== undefined) {
      where.push("sensor_type = ?");
      params.push(sensorType);
    }
    params.push(MAX_ROWS + 1);
    const rows = this.query<RawPoint>(
      hourly
        ? `SELECT sensor_id AS sensorId, sensor_type AS sensorType, hour AS at, avg_value AS avg, min_value AS min,
             max_value AS max, reading_count AS count FROM hourly_aggregates WHERE ${where.join(" AND ")}
           ORDER BY hour, sensor_id LIMIT ?`
        : `SELECT sensor_id AS sensorId, sensor_type AS sensorType, minute AS at, sum_value / count AS avg,
             min_value AS min, max_value AS max, count FROM minute_aggregates WHERE ${where.join(" AND ")}
           ORDER BY minute, sensor_id LIMIT ?`,
      params,
    );
    return { data: rows.slice(0, MAX_ROWS).map(toPoint), truncated: rows.length > MAX_ROWS };
  }

  /** Minute aggregates of the last `minutes` (default 5), newest first. */
  realtime(input: RealtimeInput = {}): { data: AggregatePoint[]; timestamp: string } {
    const { sensorType, minutes = 5 } = parseInput(realtimeInput, input ?? {});
    this.#assertExists();
    const now = Date.now();
    const since = now - minutes * MINUTE;
    const params: unknown[] = [since - (since % MINUTE)];
    if (sensorType !== undefined) params.push(sensorType);
    params.push(MAX_ROWS);
    const rows = this.query<RawPoint>(
      `SELECT sensor_id AS sensorId, sensor_type AS sensorType, minute AS at, sum_value / count AS avg,
         min_value AS min, max_value AS max, count FROM minute_aggregates
       WHERE minute >= ? ${sensorType === undefined ? "" : "AND sensor_type = ?"}
       ORDER BY minute DESC, sensor_id LIMIT ?`,
      params,
    );
    return { data: rows.map(toPoint), timestamp: new Date(now).toISOString() };
  }

  /**
   * Daily figures per sensor over raw readings from `start` to `end` (inclusive), archived
   * (R2 Parquet) and hot alike: the same SQL runs over both (tiering's unionQuery).
   */
  async historical(input: HistoricalInput): Promise<{ data: HistoricalPoint[] }> {
    const { start, end, sensorId } = parseInput(historicalInput, input);
    this.#assertExists();
    const params: unknown[] = [DAY, DAY, toMs(start), toMs(end)];
    if (sensorId !== undefined) params.push(sensorId);
    // CAST: `ts / ?` with a bound number is a real division (one "day" per reading without it).
    const rows = await this.tiering.unionQuery<Omit<HistoricalPoint, "day"> & { day: number }>(
      "readings",
      `SELECT sensor_id AS sensorId, CAST(ts / ? AS INTEGER) * ? AS day, avg(value) AS avg, min(value) AS min, max(value) AS max,
         count(*) AS count
       FROM readings WHERE ts >= ? AND ts <= ? ${sensorId === undefined ? "" : "AND sensor_id = ?"}
       GROUP BY sensor_id, day ORDER BY day, sensor_id`,
      params,
    );
    return { data: rows.map((r) => ({ ...r, day: new Date(r.day).toISOString().slice(0, 10) })) };
  }

  // ---- lifecycle ----

  /** Retention of raw readings, minute and hourly aggregates ("24h", "7d", …). */
  async configure(input: ConfigureInput): Promise<{ retention: Retention }> {
    const { retention } = parseInput(configureInput, input);
    await this.#ensureBuilding();
    if (retention?.raw)
      this.query("UPDATE building SET raw_retention_ms = ?", [parseDuration(retention.raw)]);
    if (retention?.minute)
      this.query("UPDATE building SET minute_retention_ms = ?", [parseDuration(retention.minute)]);
    if (retention?.hourly)
      this.query("UPDATE building SET hourly_retention_ms = ?", [parseDuration(retention.hourly)]);
    this.#hoursKept = undefined;
    return { retention: this.#retention() };
  }

  #retention(): Retention {
    const [row] = this.query<Retention>(
      "SELECT raw_retention_ms AS raw, minute_retention_ms AS minute, hourly_retention_ms AS hourly FROM building",
    );
    return row ?? { ...DEFAULT_RETENTION };
  }

  /**
   * Add what minute aggregates gained since the last rollup to the hourly ones (a partial hour
   * included; later rollups add the rest). Exactly once: each minute row remembers what it gave.
   */
  rollup(): { hours: number; rows: number } {
    if (!this.#exists) return { hours: 0, rows: 0 };
    return this.transaction(() => this.#rollupInTx());
  }

  #rollupInTx(): { hours: number; rows: number } {
    const hours = this.query<{ hour: number }>("SELECT hour FROM rollup_pending ORDER BY hour");
    let rows = 0;
    for (const { hour } of hours) {
      rows += this.run(ROLL_HOUR, [hour, hour, hour + HOUR]).changes;
      this.query(MARK_ROLLED, [hour, hour + HOUR]);
    }
    this.query("DELETE FROM rollup_pending");
    this.#pendingHours.clear();
    return { hours: hours.length, rows };
  }

  /**
   * The lifecycle (every hour): roll up; archive raw readings older than their retention to R2
   * Parquet by day (deleted from SQLite only once R2 confirmed the file); drop minute and hourly
   * aggregates past theirs; move alerts resolved more than a day ago to alert_history. When R2
   * fails, everything else still runs, the readings stay, and the run throws so the scheduler
   * retries it with backoff (the next hourly run retries too).
   */
  async lifecycle(): Promise<LifecycleResult> {
    if (!this.#exists) throw buildingNotFound(this.name);
    const rolledUp = this.rollup();
    const retention = this.#retention();
    let archive: LifecycleResult["archive"];
    try {
      const done: ArchiveResult = await this.tiering.archive({
        table: "readings",
        timeColumn: "ts",
        olderThan: Date.now() - retention.raw,
        partition: "day",
      });
      archive = { rows: done.rows, files: done.files, done: done.done };
    } catch (err) {
      const known = ActorError.from(err);
      archive = { error: known ? `${known.code}: ${known.description}` : String(err) };
    }
    const now = Date.now();
    const { deleted, alertsToHistory } = this.transaction(() => {
      this.#rollupInTx();
      // Only minutes already rolled up are dropped (the rollup above just ran in this transaction).
      const minute = this.run("DELETE FROM minute_aggregates WHERE minute < ? AND count = rolled_count", [
        now - retention.minute,
      ]).changes;
      const hourly = this.run("DELETE FROM hourly_aggregates WHERE hour < ?", [
        now - retention.hourly,
      ]).changes;
      // Remembered: hours before the cutoff are refused from now on, whatever the retention becomes.
      this.query("UPDATE building SET hourly_dropped_before = max(hourly_dropped_before, ?)", [
        now - retention.hourly,
      ]);
      this.#hoursKept = undefined;
      const cutoff = now - RESOLVED_KEPT_MS;
      this.query(
        `INSERT INTO alert_history (alert_id, rule_id, sensor_id, sensor_type, severity, trigger_value, duration_seconds,
           triggered_at, acknowledged_at, acknowledged_by, resolved_at, resolved_reason)
         SELECT id, rule_id, sensor_id, sensor_type, severity, trigger_value, (resolved_at - triggered_at) / 1000,
           triggered_at, acknowledged_at, acknowledged_by, resolved_at, resolved_reason
         FROM active_alerts WHERE status = 'RESOLVED' AND resolved_at < ? ORDER BY id`,
        [cutoff],
      );
      const moved = this.run("DELETE FROM active_alerts WHERE status = 'RESOLVED' AND resolved_at < ?", [
        cutoff,
      ]);
      return { deleted: { minute, hourly }, alertsToHistory: moved.changes };
    });
    const result: LifecycleResult = { rolledUp, archive, deleted, alertsToHistory };
    if ("error" in archive)
      throw new ActorError("ARCHIVE_UNAVAILABLE", `archive deferred (readings kept): ${archive.error}`, {
        ...result,
      });
    return result;
  }

  /**
   * Roll up now and deliver the hourly rollups to the central actor now (`POST /admin/buildings/:b/sync`).
   * A forward parked after an outage of the central actor is taken back into service here.
   */
  async sync(): Promise<{ rolledUp: { hours: number; rows: number }; forward: ForwardStatus | null }> {
    this.#assertExists();
    const rolledUp = this.rollup();
    const central = (this.constructor as typeof BuildingTelemetry).config.forward !== undefined;
    if (!central) return { rolledUp, forward: null };
    const [status] = await this.flushForward("central");
    return { rolledUp, forward: status.state === "parked" ? await this.resumeForward("central") : status };
  }

  // ---- existence ----

  /** Whether this building was ever written (false too when the database could not start). */
  #readExists(): boolean {
    try {
      return this.database.query("SELECT 1 FROM building").length > 0;
    } catch {
      return false;
    }
  }

  #assertExists(): void {
    this.assertReady();
    if (!this.#exists) throw buildingNotFound(this.name);
  }

  /** The first write registers the name (so lookups find it) and creates the building row. */
  async #ensureBuilding(): Promise<void> {
    this.assertReady();
    if (this.#exists) return;
    await registerName(this.env, "buildings", this.name);
    if (this.#readExists()) {
      this.#exists = true;
      return;
    }
    this.query(
      "INSERT OR IGNORE INTO building (name, created_at, raw_retention_ms, minute_retention_ms, hourly_retention_ms) VALUES (?, ?, ?, ?, ?)",
      [this.name, Date.now(), DEFAULT_RETENTION.raw, DEFAULT_RETENTION.minute, DEFAULT_RETENTION.hourly],
    );
    this.#exists = true;
    this.#scheduleLifecycle();
  }

  #scheduleLifecycle(): void {
    this.schedule.every(ROLLUP_EVERY_MS, "rollup", undefined, { key: "rollup" });
    this.schedule.every(LIFECYCLE_EVERY_MS, "lifecycle", undefined, { key: "lifecycle" });
  }
}

/** The readings by time, the batch itself when it is in order already (no copy). */
function inTimeOrder(readings: Reading[]): Reading[] {
  for (let i = 1; i < readings.length; i++)
    if (readings[i].ts < readings[i - 1].ts) return [...readings].sort((a, b) => a.ts - b.ts);
  return readings;
}

/** One reading checked (inputs.ts), or VALIDATION_FAILED naming its index and first bad field. */
function valid(input: unknown, index: number, now: number): Reading {
  const r = checkReading(input, now);
  if ("path" in r) throw badReading(index, r.path, r.message);
  return r;
}

interface AlertRow extends Omit<Alert, "triggeredAt" | "acknowledgedAt" | "resolvedAt"> {
  triggeredAt: number;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
}

interface RawPoint extends Omit<AggregatePoint, "timestamp"> {
  at: number;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function toAlert(row: AlertRow): Alert {
  return {
    ...row,
    triggeredAt: iso(row.triggeredAt)!,
    acknowledgedAt: iso(row.acknowledgedAt),
    resolvedAt: iso(row.resolvedAt),
  };
}

function toPoint({ at, ...rest }: RawPoint): AggregatePoint {
  return { ...rest, timestamp: new Date(at).toISOString() };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
