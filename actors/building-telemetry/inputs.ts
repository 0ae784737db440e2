import * as z from "zod/mini";
import { parseDuration } from "../../src/duration";
import { CONDITIONS, SENSOR_TYPES, SEVERITIES } from "./schema";

export const MAX_BATCH = 5_000;
/** Readings more than this far ahead of the actor's clock are refused (a gateway's clock gone wrong). */
export const MAX_FUTURE_MS = 60 * 60_000;
export const MAX_QUERY_HOURS = 24 * 90;
export const MAX_REALTIME_MINUTES = 24 * 60;
export const MAX_COOLDOWN_SECONDS = 86_400;

const shortText = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));
/** Sensor ids are free text from gateways, bounded (they are bound as parameters, never spliced). */
export const sensorId = shortText(128);
const finite = z.number().check(z.refine(Number.isFinite, "must be a finite number"));

/** A moment: epoch milliseconds or an ISO-8601 date-time (with offset or Z). */
export const timestampInput = z.union([
  z.int().check(z.gte(0), z.lte(8.64e15)),
  z.iso.datetime({ offset: true }),
]);
export type TimestampInput = z.input<typeof timestampInput>;

export function toMs(value: TimestampInput): number {
  return typeof value === "number" ? value : Date.parse(value);
}

export const readingInput = z.object({
  sensorId,
  sensorType: z.enum(SENSOR_TYPES),
  value: finite,
  unit: shortText(32),
  quality: z.optional(z.int().check(z.gte(0), z.lte(100))),
  timestamp: timestampInput,
});
export type ReadingInput = z.input<typeof readingInput>;

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
  userId: shortText(128),
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
