import * as z from "zod/mini";
import { parseDuration } from "../../src/duration";
import { isoDateTime } from "../../src/iso-input";
import { CONDITIONS, SENSOR_TYPES, SEVERITIES, type SensorType } from "./schema";

export const MAX_BATCH = 5_000;
/** Readings more than this far ahead of the actor's clock are refused (a gateway's clock gone wrong). */
export const MAX_FUTURE_MS = 60 * 60_000;
export const MAX_QUERY_HOURS = 24 * 90;
export const MAX_REALTIME_MINUTES = 24 * 60;
export const MAX_COOLDOWN_SECONDS = 86_400;
/**
 * The largest magnitude of a reading's value. Finite is not enough: the sums of the minute and
 * hourly aggregates (and the central actor's sums over a building's sensors) must stay finite too,
 * and two values near Number.MAX_VALUE already add up to Infinity, which the central actor refuses,
 * stopping the building's forward for good. At 1e300, 1.7e8 readings fit in one sum.
 */
export const MAX_ABS_VALUE = 1e300;

const shortText = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));
/** Sensor ids are free text from gateways, bounded (they are bound as parameters, never spliced). */
export const sensorId = shortText(128);
const finite = z.number().check(z.refine(Number.isFinite, "must be a finite number"));

/** The largest moment a Date holds, in epoch ms. */
const MAX_MS = 8.64e15;
const dateTime = isoDateTime();
/** A moment: epoch milliseconds or an ISO-8601 date-time (with offset or Z). */
export const timestampInput = z.union([z.int().check(z.gte(0), z.lte(MAX_MS)), dateTime]);
export type TimestampInput = z.input<typeof timestampInput>;

export function toMs(value: TimestampInput): number {
  return typeof value === "number" ? value : Date.parse(value);
}

/** A reading as a gateway sends it. */
export interface ReadingInput {
  sensorId: string;
  sensorType: SensorType;
  value: number;
  unit: string;
  /** 0–100, default 100. */
  quality?: number;
  timestamp: TimestampInput;
}

/** A reading after validation: times in epoch ms. */
export interface Reading {
  sensorId: string;
  sensorType: SensorType;
  value: number;
  unit: string;
  quality: number;
  ts: number;
}

/** Why a reading was refused: its first bad field ("" for the reading itself) and what is wrong. */
export interface ReadingIssue {
  path: string;
  message: string;
}

const TYPES: ReadonlySet<string> = new Set(SENSOR_TYPES);
const issue = (path: string, message: string): ReadingIssue => ({ path, message });
const text = (v: unknown, max: number) => typeof v === "string" && v.length >= 1 && v.length <= max;

/**
 * Check one reading: sensorId text of 1–128, sensorType one of SENSOR_TYPES, a finite value (at most MAX_ABS_VALUE either side of 0), unit
 * text of 1–32, quality an integer 0–100 (optional), timestamp epoch ms (an integer 0–8.64e15) or an
 * ISO-8601 date-time with offset, at most MAX_FUTURE_MS ahead of `now`. Fields are checked in that
 * order and the first bad one is answered; other keys are ignored. Written by hand, not with zod:
 * zod cannot compile its parsers in workerd (`new Function` is refused), and interpreted, its
 * object parse cost more per reading than the reading's share of a batch's SQL.
 */
export function checkReading(input: unknown, now: number): Reading | ReadingIssue {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    return issue("", "must be an object");
  const r = input as Record<string, unknown>;
  const { sensorId, sensorType, value, unit, quality, timestamp } = r;
  if (!text(sensorId, 128)) return issue("sensorId", "must be text of 1 to 128 characters");
  if (typeof sensorType !== "string" || !TYPES.has(sensorType))
    return issue("sensorType", `must be one of ${SENSOR_TYPES.join(", ")}`);
  if (typeof value !== "number" || !Number.isFinite(value)) return issue("value", "must be a finite number");
  if (Math.abs(value) > MAX_ABS_VALUE) return issue("value", "must be from -1e300 to 1e300");
  if (!text(unit, 32)) return issue("unit", "must be text of 1 to 32 characters");
  if (
    quality !== undefined &&
    (!Number.isInteger(quality) || (quality as number) < 0 || (quality as number) > 100)
  )
    return issue("quality", "must be an integer from 0 to 100");
  let ts: number;
  if (typeof timestamp === "number") {
    if (!Number.isSafeInteger(timestamp) || timestamp < 0 || timestamp > MAX_MS)
      return issue("timestamp", "must be epoch milliseconds (an integer from 0) or an ISO-8601 date-time");
    ts = timestamp;
  } else if (typeof timestamp === "string" && dateTime.safeParse(timestamp).success)
    ts = Date.parse(timestamp);
  else return issue("timestamp", "must be epoch milliseconds (an integer from 0) or an ISO-8601 date-time");
  if (ts > now + MAX_FUTURE_MS) return issue("timestamp", "must not be more than 1 hour ahead");
  return {
    sensorId: sensorId as string,
    sensorType: sensorType as SensorType,
    value,
    unit: unit as string,
    quality: (quality as number | undefined) ?? 100,
    ts,
  };
}

export const batchInput = z.array(z.unknown()).check(z.minLength(1), z.maxLength(MAX_BATCH));

const threshold = z.optional(z.nullable(finite));

const ruleFields = {
  sensorId: z.optional(z.nullable(sensorId)),
  sensorType: z.enum(SENSOR_TYPES),
  condition: z.enum(CONDITIONS),
  thresholdValue: threshold,
  thresholdMin: threshold,
  thresholdMax: threshold,
  severity: z.optional(z.enum(SEVERITIES)),
  cooldownSeconds: z.optional(z.int().check(z.gte(0), z.lte(MAX_COOLDOWN_SECONDS))),
  enabled: z.optional(z.boolean()),
};

export const ruleInput = z
  .object(ruleFields)
  .check(
    z.refine(
      (r) =>
        r.condition === "range_outside"
          ? typeof r.thresholdMin === "number" &&
            typeof r.thresholdMax === "number" &&
            r.thresholdMin <= r.thresholdMax
          : typeof r.thresholdValue === "number",
      "range_outside needs thresholdMin <= thresholdMax; every other condition needs thresholdValue",
    ),
  );
export type RuleInput = z.input<typeof ruleInput>;

/** An update: any field of a rule; the result must still be a valid rule. */
export const ruleUpdateInput = z.object({
  id: z.int().check(z.gte(1)),
  sensorId: ruleFields.sensorId,
  sensorType: z.optional(ruleFields.sensorType),
  condition: z.optional(ruleFields.condition),
  thresholdValue: threshold,
  thresholdMin: threshold,
  thresholdMax: threshold,
  severity: ruleFields.severity,
  cooldownSeconds: ruleFields.cooldownSeconds,
  enabled: ruleFields.enabled,
});
export type RuleUpdateInput = z.input<typeof ruleUpdateInput>;

export const acknowledgeInput = z.object({
  alertId: z.int().check(z.gte(1)),
  /** Who acknowledges, over DO RPC; a socket call and the HTTP route use the verified caller instead. */
  userId: z.optional(shortText(128)),
});
export type AcknowledgeInput = z.input<typeof acknowledgeInput>;

export const queryInput = z.object({
  sensorId: z.optional(sensorId),
  sensorType: z.optional(z.enum(SENSOR_TYPES)),
  hours: z.optional(z.int().check(z.gte(1), z.lte(MAX_QUERY_HOURS))),
  granularity: z.optional(z.enum(["minute", "hour"])),
});
export type QueryInput = z.input<typeof queryInput>;

export const realtimeInput = z.object({
  sensorType: z.optional(z.enum(SENSOR_TYPES)),
  minutes: z.optional(z.int().check(z.gte(1), z.lte(MAX_REALTIME_MINUTES))),
});
export type RealtimeInput = z.input<typeof realtimeInput>;

export const historicalInput = z
  .object({ start: timestampInput, end: timestampInput, sensorId: z.optional(sensorId) })
  .check(z.refine((r) => toMs(r.start) <= toMs(r.end), "start must not be after end"));
export type HistoricalInput = z.input<typeof historicalInput>;

const age = z
  .string()
  .check(z.refine((s) => parseDuration(s) !== undefined, 'must be an age like "24h" or "7d"'));

export const configureInput = z.object({
  retention: z.optional(z.object({ raw: z.optional(age), minute: z.optional(age), hourly: z.optional(age) })),
});
export type ConfigureInput = z.input<typeof configureInput>;
