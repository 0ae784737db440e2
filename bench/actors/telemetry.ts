import { DurableObject } from "cloudflare:workers";
import { BuildingTelemetry, buildingConfig } from "../../actors/building-telemetry/building-telemetry";
import init from "../../migrations/building-telemetry/0000_init.sql";

/** `n` readings of `sensors` sensors, one second apart per sensor, ending now. */
function makeReadings(n: number, sensors: number, value: (i: number) => number) {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => ({
    sensorId: `s-${i % sensors}`,
    sensorType: "temperature" as const,
    value: value(i),
    unit: "C",
    quality: 100,
    timestamp: now - (n - i) * 10,
  }));
}

/**
 * The framework side: the real BuildingTelemetry, plus methods that ingest `n` readings in one
 * call. `warm`: first one reading and a rollup, so the history WAL holds a change, as it does in
 * any building after its first rollup (an empty WAL costs more per commit: see the closing note).
 */
export class BenchBuilding extends BuildingTelemetry {
  async benchBatches(n: number, size: number, warm = true): Promise<number> {
    const readings = makeReadings(n, 100, (i) => 20 + (i % 40) * 0.25);
    if (warm) await this.#warm(readings[0]);
    for (let i = 0; i < n; i += size) await this.ingestBatch(readings.slice(i, i + size));
    return n;
  }

  async benchSingles(n: number, warm = true): Promise<number> {
    const readings = makeReadings(n, 100, (i) => 20 + (i % 40) * 0.25);
    if (warm) await this.#warm(readings[0]);
    for (const r of readings) await this.ingest(r);
    return n;
  }

  async #warm(reading: Reading): Promise<void> {
    await this.ingest(reading);
    this.rollup();
  }
}

/** The same building without the outbox to the central actor (no history, no forward). */
export class BenchLocalBuilding extends BenchBuilding {
  static override config = buildingConfig({ central: false });
}

const TYPES = new Set(["temperature", "humidity", "co2", "occupancy", "power", "water"]);
const MINUTE = 60_000;
const HOUR = 3_600_000;
const INSERT_MANY = `INSERT INTO readings (sensor_id, sensor_type, value, unit, quality, ts, received_at)
  SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, ? FROM json_each(?)`;
const INSERT_ONE = `INSERT INTO readings (sensor_id, sensor_type, value, unit, quality, ts, received_at)
  VALUES (?, ?, ?, ?, ?, ?, ?)`;
const UPSERT_SET = `ON CONFLICT (sensor_id, minute) DO UPDATE SET
  min_value = min(min_value, excluded.min_value), max_value = max(max_value, excluded.max_value),
  sum_value = sum_value + excluded.sum_value,
  avg_quality = (avg_quality * count + excluded.avg_quality * excluded.count) / (count + excluded.count),
  count = count + excluded.count`;
const MINUTE_MANY = `INSERT INTO minute_aggregates (sensor_id, sensor_type, minute, min_value, max_value, sum_value, count, avg_quality)
  SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7 FROM json_each(?) WHERE true
  ${UPSERT_SET}`;
const MINUTE_ONE = `INSERT INTO minute_aggregates (sensor_id, sensor_type, minute, min_value, max_value, sum_value, count, avg_quality)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?) ${UPSERT_SET}`;

type Reading = ReturnType<typeof makeReadings>[number];

/**
 * The baseline: a hand-written Durable Object doing the same ingest with the same SQL and the
 * same checks (written by hand, no zod), from the actor's own migration. No rules are configured
 * on either side, so alert evaluation is an empty lookup on both.
 */
export class PlainBuilding extends DurableObject<Env> {
  readonly #sql: SqlStorage;
  readonly #pending = new Set<number>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    const exists = this.#sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'readings'").toArray().length > 0;
    if (!exists)
      ctx.storage.transactionSync(() => {
        for (const statement of init.split("--> statement-breakpoint")) this.#sql.exec(statement);
      });
  }

  benchBatches(n: number, size: number): number {
    const readings = makeReadings(n, 100, (i) => 20 + (i % 40) * 0.25);
    for (let i = 0; i < n; i += size) this.#ingest(readings.slice(i, i + size));
    return n;
  }

  benchSingles(n: number): number {
    const readings = makeReadings(n, 100, (i) => 20 + (i % 40) * 0.25);
    for (const r of readings) this.#ingest([r]);
    return n;
  }

  #ingest(readings: Reading[]): void {
    const now = Date.now();
    readings.forEach((r, i) => {
      if (
        typeof r.sensorId !== "string" ||
        r.sensorId.length < 1 ||
        r.sensorId.length > 128 ||
        !TYPES.has(r.sensorType) ||
        !Number.isFinite(r.value) ||
        typeof r.unit !== "string" ||
        !Number.isInteger(r.quality) ||
        r.quality < 0 ||
        r.quality > 100 ||
        !Number.isInteger(r.timestamp) ||
        r.timestamp > now + HOUR
      )
        throw new Error(`reading ${i} is invalid`);
    });
    this.ctx.storage.transactionSync(() => {
      if (readings.length === 1) {
        const r = readings[0];
        this.#sql.exec(INSERT_ONE, r.sensorId, r.sensorType, r.value, r.unit, r.quality, r.timestamp, now);
      } else
        this.#sql.exec(
          INSERT_MANY,
          now,
          JSON.stringify(
            readings.map((r) => [r.sensorId, r.sensorType, r.value, r.unit, r.quality, r.timestamp]),
          ),
        );
      const groups = new Map<string, [string, string, number, number, number, number, number, number]>();
      for (const r of readings) {
        const minute = r.timestamp - (r.timestamp % MINUTE);
        const key = `${r.sensorId}\u0000${minute}`;
        const g = groups.get(key);
        if (!g) groups.set(key, [r.sensorId, r.sensorType, minute, r.value, r.value, r.value, 1, r.quality]);
        else {
          if (r.value < g[3]) g[3] = r.value;
          if (r.value > g[4]) g[4] = r.value;
          g[5] += r.value;
          g[6] += 1;
          g[7] += r.quality;
        }
        const hour = r.timestamp - (r.timestamp % HOUR);
        if (!this.#pending.has(hour)) {
          this.#sql.exec("INSERT OR IGNORE INTO rollup_pending (hour) VALUES (?)", hour);
          this.#pending.add(hour);
        }
      }
      const rows = [...groups.values()];
      for (const g of rows) g[7] = g[7] / g[6];
      if (rows.length === 1) this.#sql.exec(MINUTE_ONE, ...rows[0]);
      else this.#sql.exec(MINUTE_MANY, JSON.stringify(rows));
    });
  }
}
