import { quoteIdent } from "./database";
import type { ForwardStatus } from "./forward/types";
import type { ScheduleStatus } from "./schedule";

/** What `stats()` reports about one actor. */
export interface ActorStats {
  /** Bytes used by the SQLite database. */
  databaseBytes: number;
  /** Rows per table of the actor's own schema (internal tables are in `internalTables`). */
  tables: Record<string, number>;
  /**
   * Rows per internal table: the framework's `_dosql_*`, the runtime's `_cf_*` and
   * `__miniflare_*`, SQLite's `sqlite_*`. null where the runtime does not let SQL read it.
   */
  internalTables: Record<string, number | null>;
  /** The newest migration applied. */
  schemaVersion: string | null;
  schedules: { total: number; due: number; nextRunAt: number | null } & Record<ScheduleStatus, number>;
  connections: { total: number; users: number; topics: Record<string, number> };
  /** The change history (null without `history` in defineActor): LSN range held and subscribers. */
  history: { lastLsn: number; floorLsn: number; changes: number; subscribers: number } | null;
  /** Each forward (src/forward): acknowledged LSN, pending changes, deliveries, failures, parked or not. */
  forwards: ForwardStatus[];
}

/** Tables that belong to the framework, the runtime or SQLite rather than to the actor's schema. */
export const INTERNAL_TABLE = /^(_dosql_|_cf_|__miniflare_|sqlite_)/;

/**
 * Exact row counts of every table, the actor's own apart from the internal ones (a full count
 * per table: meant for introspection, not hot paths). Reads sqlite_master, not pragma_table_list,
 * which fails once workerd has created its `_cf_` tables.
 */
export function tableStats(sql: SqlStorage): Pick<ActorStats, "tables" | "internalTables"> {
  const names = sql
    .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .toArray()
    .map((row) => row.name);
  const tables: Record<string, number> = {};
  const internalTables: Record<string, number | null> = {};
  for (const name of names) {
    if (!INTERNAL_TABLE.test(name)) tables[name] = count(sql, name);
    else {
      try {
        internalTables[name] = count(sql, name);
      } catch {
        internalTables[name] = null; // `_cf_KV`: SQLITE_AUTH
      }
    }
  }
  return { tables, internalTables };
}

function count(sql: SqlStorage, table: string): number {
  return Number(sql.exec(`SELECT count(*) AS n FROM ${quoteIdent(table)}`).one().n);
}
