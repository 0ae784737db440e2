import { index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * One RegionalAnalytics actor holds the events of one region (its name: us, eu, apac). Raw events
 * keep the PII (user id, IP) and never leave the actor; every other table holds aggregates or the
 * salted hash. Times: `timestamp` columns are epoch ms; `minute` is "YYYY-MM-DDTHH:MM" (UTC) and
 * `date` "YYYY-MM-DD" (UTC), strings that sort in time order.
 */

/** Every event as it came (PII included), for 30 days by default. */
export const rawEvents = sqliteTable(
  "raw_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    sessionId: text("session_id").notNull(),
    /** PII: stays here. */
    userId: text("user_id"),
    /** HMAC-SHA-256 of the user id with ANALYTICS_SALT (hex). */
    userHash: text("user_hash"),
    /** PII: stays here, and only here. */
    ipAddress: text("ip_address"),
    userAgent: text("user_agent"),
    eventType: text("event_type").notNull(),
    /** The event's properties as JSON text. */
    eventData: text("event_data"),
    pageUrl: text("page_url").notNull(),
    /** The URL's path without its query string or fragment. */
    pagePath: text("page_path").notNull(),
    referrer: text("referrer"),
    timestamp: integer("timestamp").notNull(),
    minute: text("minute").notNull(),
    ingestedAt: integer("ingested_at").notNull(),
  },
  // One secondary index: every insert maintains each one. Whether a session (user) is already
  // counted in a minute bucket is asked of minute_members, not of these rows.
  (t) => [index("idx_raw_events_timestamp").on(t.timestamp)],
);

/** Per minute, event type and page path: events, and sessions and users counted once per bucket. */
export const minuteAggregates = sqliteTable(
  "minute_aggregates",
  {
    minute: text("minute").notNull(),
    eventType: text("event_type").notNull(),
    pagePath: text("page_path").notNull(),
    eventCount: integer("event_count").notNull().default(0),
    uniqueSessions: integer("unique_sessions").notNull().default(0),
    uniqueUsers: integer("unique_users").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.minute, t.eventType, t.pagePath] })],
);

/**
 * Who each minute bucket (minute, event type, page path) has counted: one row per distinct session
 * (`kind` 'session', `member` the session id) and per distinct user (`kind` 'user', `member` the
 * user hash) among the bucket's raw events, pruned with them. An event adds a session (user) to
 * the bucket's unique count only when its row is not here yet: the same test as "no earlier raw
 * event of the bucket has it", asked of a small table by its key instead of an index of every raw
 * event. Holds no PII (session ids and hashes, as active_sessions does); never forwarded.
 */
export const minuteMembers = sqliteTable(
  "minute_members",
  {
    minute: text("minute").notNull(),
    eventType: text("event_type").notNull(),
    pagePath: text("page_path").notNull(),
    kind: text("kind", { enum: ["session", "user"] }).notNull(),
    member: text("member").notNull(),
  },
  (t) => [primaryKey({ columns: [t.minute, t.eventType, t.pagePath, t.kind, t.member] })],
);

/** Sessions seen lately (idle ones pruned after 30 minutes): the realtime count of active sessions. */
export const activeSessions = sqliteTable(
  "active_sessions",
  {
    sessionId: text("session_id").primaryKey(),
    userHash: text("user_hash"),
    firstSeen: integer("first_seen").notNull(),
    lastSeen: integer("last_seen").notNull(),
    eventCount: integer("event_count").notNull().default(0),
    /** Events of type `page_view`. */
    pagesViewed: integer("pages_viewed").notNull().default(0),
  },
  (t) => [index("idx_active_sessions_last_seen").on(t.lastSeen)],
);

/** Per day, event type and page path, recomputed exactly from raw events by the rollup; archived to R2. */
export const dailyAggregates = sqliteTable(
  "daily_aggregates",
  {
    date: text("date").notNull(),
    /** The day's first millisecond (UTC): the archive's time column. */
    dayStart: integer("day_start").notNull(),
    eventType: text("event_type").notNull(),
    pagePath: text("page_path").notNull(),
    totalEvents: integer("total_events").notNull().default(0),
    uniqueSessions: integer("unique_sessions").notNull().default(0),
    uniqueUsers: integer("unique_users").notNull().default(0),
    /** Seconds between the first and last event of the day's sessions that had this bucket, on average. */
    avgSessionDuration: real("avg_session_duration"),
  },
  (t) => [
    primaryKey({ columns: [t.date, t.eventType, t.pagePath] }),
    index("idx_daily_day_start").on(t.dayStart),
  ],
);

/**
 * Per day and event type, the region's figures: the only table the forward sends to
 * GlobalAnalytics (aggregates only: no page path, no hash, no id). Captured by history.
 */
export const regionRollups = sqliteTable(
  "region_rollups",
  {
    date: text("date").notNull(),
    eventType: text("event_type").notNull(),
    totalEvents: integer("total_events").notNull(),
    uniqueSessions: integer("unique_sessions").notNull(),
    uniqueUsers: integer("unique_users").notNull(),
  },
  (t) => [primaryKey({ columns: [t.date, t.eventType] })],
);

/** Small facts of the actor: the rollup's watermark, the development salt. */
export const analyticsState = sqliteTable("analytics_state", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});
