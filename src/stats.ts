import { quoteIdent } from "./database";
import type { ForwardStatus } from "./forward/types";
import type { ScheduleStatus } from "./schedule";

/** What `stats()` reports about one actor. */
export interface ActorStats {
  /** Bytes used by the SQLite database. */
  databaseBytes: number;
  /** Rows per table, the framework's own `_dosql_*` tables included. */
  tables: Record<string, number>;
  /** The newest migration applied. */
  schemaVersion: string | null;
  schedules: { total: number; due: number; nextRunAt: number | null } & Record<ScheduleStatus, number>;
  connections: { total: number; users: number; topics: Record<string, number> };
  /** The change history (null without `history` in defineActor): LSN range held and subscribers. */
  history: { lastLsn: number; floorLsn: number; changes: number; subscribers: number } | null;
  /** Each forward (src/forward): acknowledged LSN, pending changes, deliveries, failures, parked or not. */
  forwards: ForwardStatus[];
}

/** Exact row counts (a full count per table: meant for introspection, not hot paths). */
export function tableRows(sql: SqlStorage, tables: string[]): Record<string, number> {
  const rows: Record<string, number> = {};
  for (const table of [...tables].sort())
    rows[table] = Number(sql.exec(`SELECT count(*) AS n FROM ${quoteIdent(table)}`).one().n);
  return rows;
}
