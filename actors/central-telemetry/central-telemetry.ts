import migrations from "../../migrations/central-telemetry/migrations.js";
import { registerName } from "../../src/coordinator/directory";
import { parseInput } from "../../src/coordinator/validate";
import { type ActorConfig, defineActor } from "../../src/define-actor";
import { applyOnce } from "../../src/forward/apply-once";
import type { ApplyResult, ForwardBatch } from "../../src/forward/types";
import { SqlActor } from "../../src/sql-actor";
import { badRollup } from "./errors";
import { hourlyRow, MAX_ROWS, type RollupsInput, rollupsInput, toMs } from "./inputs";
import * as schema from "./schema";

export interface BuildingRollup {
  building: string;
  sensorType: string;
  hour: string;
  readingCount: number;
  min: number;
  max: number;
  avg: number;
}

const UPSERT = `INSERT INTO building_rollups (building, sensor_id, sensor_type, hour, min_value, max_value, sum_value, reading_count, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (building, sensor_id, hour) DO UPDATE SET sensor_type = excluded.sensor_type,
    min_value = excluded.min_value, max_value = excluded.max_value, sum_value = excluded.sum_value,
    reading_count = excluded.reading_count, updated_at = excluded.updated_at`;

/**
 * The central rollup actor: every building's hourly aggregates, forwarded by the buildings'
 * outbox (`forward`), applied exactly once in effect by building, forward and LSN (`applyOnce`).
 * Each change carries the building's row after it changed, so a row is replaced, never added to.
 */
export class CentralTelemetry extends SqlActor<Env, typeof schema> {
  /** Its export name, kept when a minifier renames the class (src/export-name.ts). */
  static override readonly exportName: string = "CentralTelemetry";
  static override config: ActorConfig<typeof schema> = defineActor({ schema, migrations });
  #registered = false;

  /** The buildings' forward target: one batch of hourly_aggregates changes. */
  async applyRollups(batch: ForwardBatch): Promise<ApplyResult> {
    this.assertReady();
    if (!this.#registered) {
      await registerName(this.env, "central", this.name);
      this.#registered = true;
    }
    return applyOnce(this, batch, (changes, b) => {
      const now = Date.now();
      changes.forEach((change, i) => {
        if (change.table !== "hourly_aggregates" || change.op === "delete") return;
        const parsed = hourlyRow.safeParse(change.after);
        if (!parsed.success) throw badRollup(i, parsed.error.issues[0]?.message ?? "not an hourly rollup");
        const r = parsed.data;
        this.query(UPSERT, [
          b.source,
          r.sensor_id,
          r.sensor_type,
          r.hour,
          r.min_value,
          r.max_value,
          r.sum_value,
          r.reading_count,
          now,
        ]);
      });
    });
  }

  /** Per building, sensor type and hour in [from, to): reading count, min, max, average. */
  rollups(input: RollupsInput = {}): { rollups: BuildingRollup[]; truncated: boolean } {
    const { from, to, sensorType, building } = parseInput(rollupsInput, input ?? {});
    const where: string[] = [];
    const params: unknown[] = [];
    if (from !== undefined) {
      where.push("hour >= ?");
      params.push(toMs(from));
    }
    if (to !== undefined) {
      where.push("hour < ?");
      params.push(toMs(to));
    }
    if (sensorType !== undefined) {
      where.push("sensor_type = ?");
      params.push(sensorType);
    }
    if (building !== undefined) {
      where.push("building = ?");
      params.push(building);
    }
    params.push(MAX_ROWS + 1);
    const rows = this.query<Omit<BuildingRollup, "hour"> & { hour: number }>(
      `SELECT building, sensor_type AS sensorType, hour, sum(reading_count) AS readingCount, min(min_value) AS min,
         max(max_value) AS max, sum(sum_value) / sum(reading_count) AS avg
       FROM building_rollups ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       GROUP BY building, sensor_type, hour ORDER BY hour, building, sensor_type LIMIT ?`,
      params,
    );
    return {
      rollups: rows.slice(0, MAX_ROWS).map((r) => ({ ...r, hour: new Date(r.hour).toISOString() })),
      truncated: rows.length > MAX_ROWS,
    };
  }
}
