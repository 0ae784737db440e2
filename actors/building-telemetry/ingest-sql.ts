/**
 * The SQL of BuildingTelemetry's ingest, in one place: the actor runs these texts, and so does the
 * hand-written baseline of the bench (bench/actors/telemetry.ts), so the two always measure the
 * same statements. Every value is bound; nothing is spliced.
 *
 * A batch is three statements whatever its size (up to JSON_CHUNK readings): the raw rows in one
 * INSERT … SELECT over json_each of a bound JSON array, a rollup_pending marker per hour not yet
 * marked, and one upsert of every (sensor, minute) of the batch, grouped before (one row each).
 */

/** Readings per INSERT … SELECT FROM json_each(?) statement (a bound string may be up to 2 MB). */
export const JSON_CHUNK = 1_000;

/** One raw reading: sensor, type, value, unit, quality, ts, received_at. */
export const INSERT_ONE = `INSERT INTO readings (sensor_id, sensor_type, value, unit, quality, ts, received_at)
  VALUES (?, ?, ?, ?, ?, ?, ?)`;

/** Raw readings: received_at, then a JSON array of [sensor, type, value, unit, quality, ts]. */
export const INSERT_MANY = `INSERT INTO readings (sensor_id, sensor_type, value, unit, quality, ts, received_at)
  SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, ? FROM json_each(?)`;

/** Hours whose minutes changed since the last rollup: the hour. */
export const MARK_PENDING = "INSERT OR IGNORE INTO rollup_pending (hour) VALUES (?)";

/**
 * Adds a group of readings to its minute: min of mins, max of maxes, sums and counts added, the
 * quality averaged by count. The same arithmetic whether a group holds one reading or many.
 */
const MINUTE_UPSERT_SET = `ON CONFLICT (sensor_id, minute) DO UPDATE SET
  min_value = min(min_value, excluded.min_value),
  max_value = max(max_value, excluded.max_value),
  sum_value = sum_value + excluded.sum_value,
  avg_quality = (avg_quality * count + excluded.avg_quality * excluded.count) / (count + excluded.count),
  count = count + excluded.count`;

/** One (sensor, minute) group: sensor, type, minute, min, max, sum, count, average quality. */
export const MINUTE_ONE = `INSERT INTO minute_aggregates (sensor_id, sensor_type, minute, min_value, max_value, sum_value, count, avg_quality)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?) ${MINUTE_UPSERT_SET}`;

/** Many groups: a JSON array of MINUTE_ONE's parameters (`WHERE true`: SQLite's upsert-after-SELECT rule). */
export const MINUTE_MANY = `INSERT INTO minute_aggregates (sensor_id, sensor_type, minute, min_value, max_value, sum_value, count, avg_quality)
  SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7 FROM json_each(?) WHERE true
  ${MINUTE_UPSERT_SET}`;
