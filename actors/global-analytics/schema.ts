import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The one GlobalAnalytics actor ("global"): the per-day figures of every region, as the regions'
 * forwards deliver them. No PII by construction: the only columns are a region, a day, an event
 * type and three counts (and applyOnce's ledger: source region, forward name, LSN).
 */
export const regionalRollups = sqliteTable(
  "regional_rollups",
  {
    region: text("region").notNull(),
    /** "YYYY-MM-DD" (UTC). */
    date: text("date").notNull(),
    eventType: text("event_type").notNull(),
    totalEvents: integer("total_events").notNull(),
    uniqueSessions: integer("unique_sessions").notNull(),
    uniqueUsers: integer("unique_users").notNull(),
    /** The region's LSN of the change that set these figures. */
    sourceLsn: integer("source_lsn").notNull(),
    /** Epoch ms. */
    receivedAt: integer("received_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.region, t.date, t.eventType] }),
    index("idx_regional_rollups_date").on(t.date, t.eventType),
  ],
);
