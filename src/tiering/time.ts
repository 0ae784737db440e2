import { parseDuration } from "../duration";
import { badInput } from "../errors";

export type Partition = "hour" | "day" | "month";
export const PARTITIONS: readonly Partition[] = ["hour", "day", "month"];

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

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
    return { label: `${y}-${pad(mo + 1)}-${pad(day)}`, start, end: start + DAY_MS };
  }
  const start = Date.UTC(y, mo, day, d.getUTCHours());
  return { label: `${y}-${pad(mo + 1)}-${pad(day)}T${pad(d.getUTCHours())}`, start, end: start + HOUR_MS };
}
