/** Figures of one region (or of all) for one day and event type. */
export interface Figures {
  totalEvents: number;
  uniqueSessions: number;
  uniqueUsers: number;
}

export interface DayMetrics extends Figures {
  date: string;
  eventType: string;
  regionsReporting: number;
  regions: Record<string, Figures>;
}

/** `columns()`: every table the actor stores and its columns, in order (none before the first sync). */
export interface ColumnsResult {
  tables: { name: string; columns: string[] }[];
}

export interface MetricsResult {
  from: string;
  to: string;
  /** Per day and event type: each region's figures and their sum. */
  days: DayMetrics[];
  /**
   * Over the whole range, per region and in total: events, and the sums of the daily unique counts
   * (a session active on two days counts twice: no ids ever reach this actor to tell).
   */
  regions: Record<string, Figures>;
  total: Figures;
}

const DAY_MS = 86_400_000;

/** The range asked, the missing ends from the default: the last 30 days up to today (UTC). */
export function resolveRange(
  asked: { from?: string; to?: string },
  now: number,
): { from: string; to: string } {
  const today = new Date(now).toISOString().slice(0, 10);
  const monthAgo = new Date(now - 30 * DAY_MS).toISOString().slice(0, 10);
  const from = asked.from ?? (asked.to !== undefined && asked.to < monthAgo ? asked.to : monthAgo);
  if (asked.to !== undefined) return { from, to: asked.to };
  // A range starting after today ends where it starts.
  return { from, to: [from, today].sort()[1] };
}

export function emptyMetrics(from: string, to: string): MetricsResult {
  return { from, to, days: [], regions: {}, total: { totalEvents: 0, uniqueSessions: 0, uniqueUsers: 0 } };
}

export function add(into: Figures, from: Figures): void {
  into.totalEvents += from.totalEvents;
  into.uniqueSessions += from.uniqueSessions;
  into.uniqueUsers += from.uniqueUsers;
}
