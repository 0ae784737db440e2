import { index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The central rollup actor: the hourly aggregates every building forwards, one row per building,
 * sensor and hour (the building's row as last forwarded: applying it again changes nothing).
 * Times are epoch milliseconds (the hour's first millisecond).
 */
export const buildingRollups = sqliteTable(
  "building_rollups",
  {
    building: text("building").notNull(),
    sensorId: text("sensor_id").notNull(),
    sensorType: text("sensor_type").notNull(),
    hour: integer("hour").notNull(),
    minValue: real("min_value").notNull(),
    maxValue: real("max_value").notNull(),
    sumValue: real("sum_value").notNull(),
    readingCount: integer("reading_count").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.building, t.sensorId, t.hour] }),
    index("idx_rollups_hour").on(t.hour, t.sensorType),
  ],
);
