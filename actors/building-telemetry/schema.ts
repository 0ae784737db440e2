import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * One BuildingTelemetry actor holds the telemetry of one building (its name). Every time is an
 * integer of epoch milliseconds (UTC): it sorts, compares and buckets exactly, and it is what the
 * tiering part archives by. Minute and hour buckets hold the bucket's first millisecond.
 */

export const SENSOR_TYPES = ["temperature", "humidity", "co2", "occupancy", "power", "water"] as const;
export type SensorType = (typeof SENSOR_TYPES)[number];

export const CONDITIONS = ["gt", "gte", "lt", "lte", "eq", "neq", "range_outside"] as const;
export type Condition = (typeof CONDITIONS)[number];

export const SEVERITIES = ["info", "warning", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const ALERT_STATUSES = ["ACTIVE", "ACKNOWLEDGED", "RESOLVED"] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** The building itself: one row, written on its first write; retention is configurable. */
export const building = sqliteTable("building", {
  name: text("name").primaryKey(),
  createdAt: integer("created_at").notNull(),
  /** Raw readings older than this are archived to R2 (then deleted): default 24 h. */
  rawRetentionMs: integer("raw_retention_ms").notNull(),
  minuteRetentionMs: integer("minute_retention_ms").notNull(),
  hourlyRetentionMs: integer("hourly_retention_ms").notNull(),
  /**
   * The lifecycle's latest hourly cutoff: hours before it may have been dropped here, so readings
   * of them are refused even once the retention is lengthened (they would start the hour again).
   */
  hourlyDroppedBefore: integer("hourly_dropped_before").notNull().default(0),
});

/** Raw readings (kept `raw_retention_ms`, then archived to R2 Parquet by day). */
export const readings = sqliteTable(
  "readings",
  {
    id: integer("id").primaryKey(),
    sensorId: text("sensor_id").notNull(),
    sensorType: text("sensor_type", { enum: SENSOR_TYPES }).notNull(),
    value: real("value").notNull(),
    unit: text("unit").notNull(),
    quality: integer("quality").notNull(),
    ts: integer("ts").notNull(),
    receivedAt: integer("received_at").notNull(),
  },
  (t) => [
    index("idx_readings_ts").on(t.ts),
    index("idx_readings_sensor").on(t.sensorId, t.ts),
    check(
      "readings_type_known",
      sql`${t.sensorType} IN ('temperature', 'humidity', 'co2', 'occupancy', 'power', 'water')`,
    ),
    check("readings_quality_range", sql`${t.quality} BETWEEN 0 AND 100`),
  ],
);

/**
 * Minute aggregates, upserted with every reading. `rolled_sum` / `rolled_count` are the part of
 * `sum_value` / `count` already added to `hourly_aggregates`: the rollup adds only the difference,
 * so running it again (or after late readings) never counts a reading twice.
 */
export const minuteAggregates = sqliteTable(
  "minute_aggregates",
  {
    sensorId: text("sensor_id").notNull(),
    sensorType: text("sensor_type").notNull(),
    minute: integer("minute").notNull(),
    minValue: real("min_value").notNull(),
    maxValue: real("max_value").notNull(),
    sumValue: real("sum_value").notNull(),
    count: integer("count").notNull(),
    avgQuality: real("avg_quality").notNull(),
    rolledSum: real("rolled_sum").notNull().default(0),
    rolledCount: integer("rolled_count").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.sensorId, t.minute] }), index("idx_minute_minute").on(t.minute)],
);

/** Hours whose minute aggregates changed since the last rollup (one row per hour). */
export const rollupPending = sqliteTable("rollup_pending", {
  hour: integer("hour").primaryKey(),
});

/** Hourly aggregates (kept `hourly_retention_ms`); forwarded to CentralTelemetry. */
export const hourlyAggregates = sqliteTable(
  "hourly_aggregates",
  {
    sensorId: text("sensor_id").notNull(),
    sensorType: text("sensor_type").notNull(),
    hour: integer("hour").notNull(),
    minValue: real("min_value").notNull(),
    maxValue: real("max_value").notNull(),
    avgValue: real("avg_value").notNull(),
    sumValue: real("sum_value").notNull(),
    readingCount: integer("reading_count").notNull(),
  },
  (t) => [primaryKey({ columns: [t.sensorId, t.hour] }), index("idx_hourly_hour").on(t.hour)],
);

/** Alert rules: per sensor (`sensor_id`) or for every sensor of a type (`sensor_id` NULL). */
export const alertRules = sqliteTable(
  "alert_rules",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    sensorId: text("sensor_id"),
    sensorType: text("sensor_type", { enum: SENSOR_TYPES }).notNull(),
    condition: text("condition", { enum: CONDITIONS }).notNull(),
    thresholdValue: real("threshold_value"),
    thresholdMin: real("threshold_min"),
    thresholdMax: real("threshold_max"),
    severity: text("severity", { enum: SEVERITIES }).notNull(),
    cooldownSeconds: integer("cooldown_seconds").notNull().default(300),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    check(
      "alert_rules_condition_known",
      sql`${t.condition} IN ('gt', 'gte', 'lt', 'lte', 'eq', 'neq', 'range_outside')`,
    ),
    check("alert_rules_severity_known", sql`${t.severity} IN ('info', 'warning', 'critical')`),
    check(
      "alert_rules_thresholds",
      sql`(${t.condition} = 'range_outside' AND ${t.thresholdMin} IS NOT NULL AND ${t.thresholdMax} IS NOT NULL AND ${t.thresholdMin} <= ${t.thresholdMax}) OR (${t.condition} <> 'range_outside' AND ${t.thresholdValue} IS NOT NULL)`,
    ),
  ],
);

/** Alerts not yet moved to history: ACTIVE, ACKNOWLEDGED, or RESOLVED (moved a day after). */
export const activeAlerts = sqliteTable(
  "active_alerts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    ruleId: integer("rule_id")
      .notNull()
      .references(() => alertRules.id),
    sensorId: text("sensor_id").notNull(),
    sensorType: text("sensor_type").notNull(),
    triggerValue: real("trigger_value").notNull(),
    thresholdValue: real("threshold_value").notNull(),
    severity: text("severity", { enum: SEVERITIES }).notNull(),
    status: text("status", { enum: ALERT_STATUSES }).notNull().default("ACTIVE"),
    triggeredAt: integer("triggered_at").notNull(),
    acknowledgedAt: integer("acknowledged_at"),
    acknowledgedBy: text("acknowledged_by"),
    resolvedAt: integer("resolved_at"),
    resolvedReason: text("resolved_reason"),
  },
  (t) => [
    index("idx_alerts_status").on(t.status),
    index("idx_alerts_rule_sensor").on(t.ruleId, t.sensorId),
    check("active_alerts_status_known", sql`${t.status} IN ('ACTIVE', 'ACKNOWLEDGED', 'RESOLVED')`),
  ],
);

/** Resolved alerts, kept for analytics. */
export const alertHistory = sqliteTable("alert_history", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  alertId: integer("alert_id").notNull(),
  ruleId: integer("rule_id").notNull(),
  sensorId: text("sensor_id").notNull(),
  sensorType: text("sensor_type").notNull(),
  severity: text("severity").notNull(),
  triggerValue: real("trigger_value").notNull(),
  durationSeconds: integer("duration_seconds"),
  triggeredAt: integer("triggered_at").notNull(),
  acknowledgedAt: integer("acknowledged_at"),
  acknowledgedBy: text("acknowledged_by"),
  resolvedAt: integer("resolved_at"),
  resolvedReason: text("resolved_reason"),
});
