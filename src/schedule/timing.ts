import { type Cron, parseCronExpression } from "cron-schedule";
import { ActorError } from "../errors";

/** When a one-off task runs: a Date (absolute; a past date means "as soon as possible") or a delay in ms. */
export type When = Date | number;
/** How often a recurring task runs: an interval in ms, or a cron string (5 or 6 fields, UTC). */
export type Every = number | string;

export type Timing = { kind: "at" } | { kind: "every"; intervalMs: number } | { kind: "cron"; cron: string };

/**
 * The latest due time: the Durable Object alarm refuses later ones ("doesn't support dates after
 * 2189", measured: 2199-12-31T23:59:59.999Z is the last it takes), so a task due later would be
 * stored and never armed.
 */
export const MAX_TIME = Date.UTC(2200, 0, 1) - 1;

/** The epoch ms a one-off task is due. */
export function resolveAt(when: When, now: number): number {
  if (when instanceof Date) {
    const t = when.getTime();
    if (!Number.isFinite(t)) throw invalid("the date is not a valid Date");
    if (t > MAX_TIME) throw invalid("the date is too far in the future (the alarm takes dates up to 2199)");
    return t;
  }
  if (typeof when !== "number" || !Number.isFinite(when))
    throw invalid("when must be a Date or a delay in milliseconds");
  if (when < 0) throw invalid(`a delay cannot be negative (got ${when} ms)`);
  if (now + when > MAX_TIME) throw invalid("the delay is too far in the future");
  return now + Math.ceil(when);
}

/** Parse an interval (ms) or cron string; throws INVALID_SCHEDULE / INVALID_CRON. */
export function parseEvery(every: Every): Exclude<Timing, { kind: "at" }> {
  if (typeof every === "number") {
    if (!Number.isSafeInteger(every) || every < 1)
      throw invalid(`an interval must be a whole number of milliseconds >= 1 (got ${every})`);
    return { kind: "every", intervalMs: every };
  }
  if (typeof every !== "string") throw invalid("every needs an interval in milliseconds or a cron string");
  const cron = every.trim().replace(/\s+/g, " ");
  parseCron(cron);
  return { kind: "cron", cron };
}

const cronCache = new Map<string, Cron>();

function parseCron(cron: string): Cron {
  let parsed = cronCache.get(cron);
  if (parsed) return parsed;
  if (cron.length === 0 || cron.length > 200)
    throw new ActorError("INVALID_CRON", "a cron string has 5 or 6 fields and at most 200 characters");
  try {
    parsed = parseCronExpression(cron);
    // A cron that can never fire (e.g. "0 0 30 2 *") must be refused now, not when it comes due.
    parsed.getNextDate(new Date(0));
  } catch (err) {
    throw new ActorError(
      "INVALID_CRON",
      `invalid cron "${cron}": ${err instanceof Error ? err.message : err}`,
    );
  }
  if (cronCache.size > 100) cronCache.clear();
  cronCache.set(cron, parsed);
  return parsed;
}

/**
 * The first cron time strictly after `after` (epoch ms). Workers run in UTC, and cron-schedule
 * works in the runtime's local time, so cron fields are UTC.
 */
export function nextCronTime(cron: string, after: number): number {
  return parseCron(cron).getNextDate(new Date(after)).getTime();
}

/** The first due time of a recurring task, counted from `now`. */
export function firstRun(timing: Exclude<Timing, { kind: "at" }>, now: number): number {
  const first = timing.kind === "cron" ? nextCronTime(timing.cron, now) : now + timing.intervalMs;
  if (first > MAX_TIME)
    throw invalid(
      timing.kind === "cron"
        ? "the cron's next time is too far in the future (the alarm takes dates up to 2199)"
        : "the interval is too long (the alarm takes dates up to 2199)",
    );
  return first;
}

/**
 * The next due time after a run that was due at `due`. Missed occurrences are skipped: a task
 * whose actor slept through several intervals runs once on wake, then keeps its phase. Null when
 * that time is after the last date the alarm takes (MAX_TIME), the limit `at` and `every` enforce
 * when a task is made: such a task has no next run.
 */
export function nextRun(timing: Exclude<Timing, { kind: "at" }>, due: number, now: number): number | null {
  let next: number;
  if (timing.kind === "cron") next = nextCronTime(timing.cron, Math.max(due, now));
  else {
    const missed = Math.max(0, Math.floor((now - due) / timing.intervalMs));
    next = due + (missed + 1) * timing.intervalMs;
  }
  return next <= MAX_TIME ? next : null;
}

/** The dead-letter message of a recurring task whose next run would be after MAX_TIME. */
export const PAST_MAX_TIME =
  "INVALID_SCHEDULE: the next run would be after 2199-12-31T23:59:59.999Z, the last date the alarm takes";

function invalid(message: string): ActorError {
  return new ActorError("INVALID_SCHEDULE", message);
}
