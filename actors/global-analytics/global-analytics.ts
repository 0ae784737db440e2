import migrations from "../../migrations/global-analytics/migrations.js";
import { registerName } from "../../src/coordinator/directory";
import { parseInput } from "../../src/coordinator/validate";
import { type ActorConfig, defineActor } from "../../src/define-actor";
import { type ApplyResult, applyOnce, type ForwardBatch, type ForwardChange } from "../../src/forward/index";
import { readSchema } from "../../src/migrations/schema";
import { SqlActor } from "../../src/sql-actor";
import { INTERNAL_TABLE } from "../../src/stats";
import { unexpectedChange } from "./errors";
import { type MetricsInput, metricsInput, regionName, rollupRow } from "./inputs";
import {
  add,
  type ColumnsResult,
  type DayMetrics,
  emptyMetrics,
  type Figures,
  type MetricsResult,
  resolveRange,
} from "./results";
import * as schema from "./schema";

const UPSERT = `INSERT INTO regional_rollups (region, date, event_type, total_events, unique_sessions, unique_users, source_lsn, received_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (region, date, event_type) DO UPDATE SET total_events = excluded.total_events,
    unique_sessions = excluded.unique_sessions, unique_users = excluded.unique_users,
    source_lsn = excluded.source_lsn, received_at = excluded.received_at
  WHERE excluded.source_lsn > source_lsn`;

/**
 * Every region's daily rollups, applied idempotently: `applyOnce` skips a batch (or the part of
 * one) already applied for that region, forward and LSN, and each row is set to the figures the
 * region computed (not added to), so a retried or duplicated sync never counts twice. Only the
 * five allowed columns of a rollup are read from a change; anything else in it is ignored, and a
 * change of another table refuses the batch. Deletes are ignored: the global figures outlive a
 * region's retention.
 */
export class GlobalAnalytics extends SqlActor<Env, typeof schema> {
  /** Its export name, kept when a minifier renames the class (src/export-name.ts). */
  static override readonly exportName: string = "GlobalAnalytics";
  static override config: ActorConfig<typeof schema> = defineActor({ schema, migrations });

  /** The `global` forward's target (RegionalAnalytics): one batch of region_rollups changes. */
  async applyRollups(batch: ForwardBatch): Promise<ApplyResult> {
    if (!this.#written()) await registerName(this.env, "analytics", this.name);
    const region = parseInput(regionName, (batch as { source?: unknown } | null)?.source);
    const now = Date.now();
    return applyOnce(this, batch, (changes: ForwardChange[], _batch, { reset }) => {
      // The region was destroyed and written again: its LSNs started over, so the old ones no
      // longer order its changes (its figures stay until the new ones replace them).
      if (reset) this.database.query("UPDATE regional_rollups SET source_lsn = 0 WHERE region = ?", [region]);
      for (const change of changes) {
        if (change.table !== "region_rollups") throw unexpectedChange(change.table, "not a region rollup");
        if (change.op === "delete") continue;
        const result = rollupRow.safeParse(change.after);
        if (!result.success)
          throw unexpectedChange(change.table, result.error.issues[0]?.message ?? "bad row");
        const r = result.data;
        this.database.query(UPSERT, [
          region,
          r.date,
          r.event_type,
          r.total_events,
          r.unique_sessions,
          r.unique_users,
          change.lsn,
          now,
        ]);
      }
    });
  }

  /** Per-day, per-region and total figures from `from` to `to` (UTC days, inclusive; default the last 30 days). */
  metrics(input: MetricsInput = {}): MetricsResult {
    const parsed = parseInput(metricsInput, input ?? {});
    const { from, to } = resolveRange(parsed, Date.now());
    const result = emptyMetrics(from, to);
    const params: unknown[] = [from, to];
    if (parsed.eventType !== undefined) params.push(parsed.eventType);
    const rows = this.database.query<Figures & { region: string; date: string; eventType: string }>(
      `SELECT region, date, event_type AS eventType, total_events AS totalEvents, unique_sessions AS uniqueSessions,
         unique_users AS uniqueUsers FROM regional_rollups
       WHERE date >= ? AND date <= ?${parsed.eventType === undefined ? "" : " AND event_type = ?"}
       ORDER BY date, event_type, region`,
      params,
    );
    let day: DayMetrics | undefined;
    for (const row of rows) {
      if (!day || day.date !== row.date || day.eventType !== row.eventType) {
        day = {
          date: row.date,
          eventType: row.eventType,
          totalEvents: 0,
          uniqueSessions: 0,
          uniqueUsers: 0,
          regionsReporting: 0,
          regions: {},
        };
        result.days.push(day);
      }
      const figures = {
        totalEvents: row.totalEvents,
        uniqueSessions: row.uniqueSessions,
        uniqueUsers: row.uniqueUsers,
      };
      day.regions[row.region] = figures;
      day.regionsReporting++;
      add(day, figures);
      result.regions[row.region] ??= { totalEvents: 0, uniqueSessions: 0, uniqueUsers: 0 };
      add(result.regions[row.region], figures);
      add(result.total, figures);
    }
    return result;
  }

  /**
   * The columns this actor stores, as SQLite describes its tables (the actor's own; the
   * framework's `_dosql_*` ledger and the runtime's tables, such as wrangler dev's
   * `__miniflare_do_name`, are left out): what anyone may check holds no PII.
   */
  columns(): ColumnsResult {
    const tables = [...readSchema(this.ctx.storage.sql).values()]
      .filter((t) => !INTERNAL_TABLE.test(t.name))
      .map((t) => ({ name: t.name, columns: t.columns }))
      .sort((a, b) => a.name.localeCompare(b.name));
    return { tables };
  }

  #written(): boolean {
    try {
      return this.database.query("SELECT 1 FROM regional_rollups LIMIT 1").length > 0;
    } catch {
      return false;
    }
  }
}
