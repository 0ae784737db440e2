import type { Range } from "./inputs";

/** The columns of region_rollups the `global` forward may send: aggregates only. */
export const ROLLUP_COLUMNS = [
  "date",
  "event_type",
  "total_events",
  "unique_sessions",
  "unique_users",
] as const;

export interface Figures {
  totalEvents: number;
  uniqueSessions: number;
  uniqueUsers: number;
}

export interface QueryResult {
  region: string;
  range: Range;
  /** Epoch ms: the window is [from, to], `from` on a minute boundary. */
  from: number;
  to: number;
  /** Per event type, most events first. Unique sessions and users are exact distinct counts over the window. */
  metrics: (Figures & { eventType: string })[];
  totals: Figures;
}

export interface MinuteRow {
  minute: string;
  eventType: string;
  pagePath: string;
  eventCount: number;
  uniqueSessions: number;
  uniqueUsers: number;
}

export interface RealtimeResult {
  region: string;
  /** Sessions with an event in the last 30 minutes. */
  activeSessions: number;
  /** Minute buckets of the last 5 minutes, newest first. */
  recentMetrics: MinuteRow[];
  timestamp: string;
}

export interface DailyRow extends Figures {
  date: string;
  eventType: string;
  pagePath: string;
  avgSessionDuration: number | null;
}

export interface HistoricalResult {
  region: string;
  start: string;
  end: string;
  /** Daily aggregates (archived and hot) by date, event type and page path. */
  days: DailyRow[];
  /** Events per date and event type (unique counts do not add up across paths, so they are not summed). */
  totals: { date: string; eventType: string; totalEvents: number }[];
}

/** The answer for a region with no events (also what the coordinator answers without reaching it). */
export function emptyQuery(region: string, range: Range, from: number, to: number): QueryResult {
  return {
    region,
    range,
    from,
    to,
    metrics: [],
    totals: { totalEvents: 0, uniqueSessions: 0, uniqueUsers: 0 },
  };
}

export function emptyRealtime(region: string, now: number): RealtimeResult {
  return { region, activeSessions: 0, recentMetrics: [], timestamp: new Date(now).toISOString() };
}

export function emptyHistorical(region: string, start: string, end: string): HistoricalResult {
  return { region, start, end, days: [], totals: [] };
}

/** "YYYY-MM-DDTHH:MM" (UTC) of a moment. */
export function minuteOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16);
}

/** The UTC day ("YYYY-MM-DD") of a time. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The first millisecond (UTC) of a "YYYY-MM-DD" day. */
export function dayStart(date: string): number {
  return Date.parse(`${date}T00:00:00Z`);
}
