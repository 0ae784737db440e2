import { badInput } from "../errors";

export type Partition = "hour" | "day" | "month";
export const PARTITIONS: readonly Partition[] = ["hour", "day", "month"];

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** "90s", "15m", "12h", "7d", "2w" → milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,9})(ms|s|m|h|d|w)$/.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : undefined;
}

/**
 * The archive cutoff as epoch milliseconds: a Date, epoch milliseconds, or an age such as "7d"
 * (rows older than seven days before `now`).
 */
export function cutoffMs(olderThan: unknown, now: number): number {
  if (olderThan instanceof Date && Number.isFinite(olderThan.getTime())) return olderThan.getTime();
  if (typeof olderThan === "number" && Number.isFinite(olderThan)) return olderThan;
  if (typeof olderThan === "string") {
    const age = parseDuration(olderThan);
    if (age !== undefined) return now - age;
  }
  throw badInput('olderThan must be a Date, epoch milliseconds, or an age like "7d", "12h", "30m"', {
    field: "olderThan",
  });
}

/** UTC partition label and [start, end) in epoch ms for the partition holding `ms`. */
export function partitionOf(ms: number, partition: Partition): { label: string; start: number; end: number } {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth();
  const day = d.getUTCDate();
  const pad = (n: number) => String(n).padStart(2, "0");
  if (partition === "month") {
    return { label: `${y}-${pad(mo + 1)}`, start: Date.UTC(y, mo, 1), end: Date.UTC(y, mo + 1, 1) };
  }
  if (partition === "day") {
    const start = Date.UTC(y, mo, day);
    return { label: `${y}-${pad(mo + 1)}-${pad(day)}`, start, end: start + UNIT_MS.d };
  }
  const start = Date.UTC(y, mo, day, d.getUTCHours());
  return { label: `${y}-${pad(mo + 1)}-${pad(day)}T${pad(d.getUTCHours())}`, start, end: start + UNIT_MS.h };
}
