import * as z from "zod/mini";
import { parseInput } from "../../src/coordinator/validate";
import { isoDate } from "../../src/iso-input";

/** One batch holds at most this many events (one transaction). */
export const MAX_BATCH = 1000;
/** An event's properties, as JSON, take at most this many bytes. */
export const MAX_PROPERTIES_BYTES = 64 * 1024;
/** Events may be this late (their timestamp this far in the past) ... */
export const LATE_WINDOW_MS = 7 * 86_400_000;
/** ... and this far in the future (clock skew). */
export const FUTURE_SKEW_MS = 5 * 60_000;
/** Raw events and minute aggregates are kept this many days unless ANALYTICS_RETENTION_DAYS says otherwise. */
export const DEFAULT_RETENTION_DAYS = 30;
/** Retention is never shorter than the late window plus a day, so a day is never recomputed from a partial set. */
export const MIN_RETENTION_DAYS = 8;
export const MAX_RETENTION_DAYS = 3650;
/** Longest historical query, in days. */
export const MAX_HISTORICAL_DAYS = 400;

/** Event types and session ids: short, printable, no spaces. */
const token = (max: number) =>
  z
    .string()
    .check(z.regex(new RegExp(`^[A-Za-z0-9._:/-]{1,${max}}$`), `must be 1-${max} of A-Z a-z 0-9 . _ : / -`));

/** A moment: an ISO-8601 date-time (with Z or an offset) or epoch milliseconds (checked in event.ts). */
export type TimestampInput = string | number;

// An event itself is checked by hand (event.ts): it is the one input checked once per event.

/**
 * `partial: true` keeps the valid events of a batch and reports the others; the default (false)
 * writes nothing when any event is bad, so a client can fix and resend the whole batch without
 * counting its valid events twice.
 */
export const ingestOptions = z.object({ partial: z.optional(z.boolean()) });
export type IngestOptions = z.input<typeof ingestOptions>;

/** The ingest options, checked (by zod only when they are not the common `{}` or `{ partial: boolean }`). */
export function ingestOptionsOf(options: unknown): IngestOptions {
  if (options === undefined || options === null) return {};
  if (typeof options === "object" && !Array.isArray(options)) {
    const { partial } = options as { partial?: unknown };
    if (partial === undefined || typeof partial === "boolean") return { partial };
  }
  return parseInput(ingestOptions, options);
}

export const RANGES = {
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
  month: 30 * 86_400_000,
} as const;
export type Range = keyof typeof RANGES;

export const queryInput = z.object({
  range: z.optional(z.enum(["hour", "day", "week", "month"])),
  eventType: z.optional(token(64)),
});
export type QueryInput = z.input<typeof queryInput>;

/** A UTC day: YYYY-MM-DD. */
export const dateInput = isoDate();

export const historicalInput = z
  .object({ start: dateInput, end: dateInput, eventType: z.optional(token(64)) })
  .check(
    z.refine((v) => v.start <= v.end, { message: "start must not be after end", path: ["end"] }),
    z.refine((v) => (Date.parse(v.end) - Date.parse(v.start)) / 86_400_000 < MAX_HISTORICAL_DAYS, {
      message: `the range may span at most ${MAX_HISTORICAL_DAYS} days`,
      path: ["end"],
    }),
  );
export type HistoricalInput = z.input<typeof historicalInput>;

/** An admin's prune: a shorter retention for this run only (never below the minimum). */
export const pruneInput = z.object({
  retentionDays: z.optional(z.int().check(z.gte(1), z.lte(MAX_RETENTION_DAYS))),
});
export type PruneInput = z.input<typeof pruneInput>;

/** Archive daily aggregates of days before `before` (YYYY-MM-DD; default: older than 14 days). */
export const archiveInput = z.object({ before: z.optional(dateInput) });
export type ArchiveInput = z.input<typeof archiveInput>;

/** The configured retention in days: ANALYTICS_RETENTION_DAYS when a whole number in range, else 30. */
export function retentionDays(env: { ANALYTICS_RETENTION_DAYS?: string } | undefined): number {
  const value = Number(env?.ANALYTICS_RETENTION_DAYS);
  return Number.isInteger(value) && value >= MIN_RETENTION_DAYS && value <= MAX_RETENTION_DAYS
    ? value
    : DEFAULT_RETENTION_DAYS;
}

const PATHS_REMEMBERED = 1_000;
/** The path of each URL's text before its query (see pathOf), the latest PATHS_REMEMBERED. */
const paths = new Map<string, string | null>();

/**
 * The path of a page URL without query string or fragment, or null when it is not a page URL.
 * An absolute URL's path is remembered by its text up to the first `?` or `#`: page URLs repeat
 * with other query strings, and parsing cost more than the rest of an event's check. The parser
 * ends an http(s) URL's authority and path at the first `?` or `#` wherever it stands, so the
 * text before it has the same path as the whole (unless that text ends in a space or a control) (test/analytics-path.test.ts).
 */
export function pathOf(value: string): string | null {
  const end = value.search(/[?#]/);
  if (value.startsWith("/") && !value.startsWith("//")) return end === -1 ? value : value.slice(0, end);
  // The parser trims spaces and controls off the whole text only: before a query they stay (as %20).
  if (end > 0 && value.charCodeAt(end - 1) <= 0x20) return urlPath(value);
  const key = end === -1 ? value : value.slice(0, end);
  const known = paths.get(key);
  if (known !== undefined) return known;
  const path = urlPath(key);
  if (paths.size >= PATHS_REMEMBERED) paths.clear();
  paths.set(key, path);
  return path;
}

function urlPath(value: string): string | null {
  const url = URL.parse(value);
  return url !== null && (url.protocol === "http:" || url.protocol === "https:") ? url.pathname : null;
}
