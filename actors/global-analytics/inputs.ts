import * as z from "zod/mini";
import { NAME_PATTERN } from "../../src/coordinator/validate";
import { isoDate } from "../../src/iso-input";

export const MAX_METRICS_DAYS = 400;

const eventType = z
  .string()
  .check(z.regex(/^[A-Za-z0-9._:/-]{1,64}$/, "must be 1-64 of A-Z a-z 0-9 . _ : / -"));
const count = z.int().check(z.gte(0), z.lte(Number.MAX_SAFE_INTEGER));

/** A region is the name of the RegionalAnalytics actor that sent the batch. */
export const regionName = z.string().check(z.regex(NAME_PATTERN, "must be an actor name"));

/** One region_rollups row as a forward carries it: exactly these columns are read, nothing else is kept. */
export const rollupRow = z.object({
  date: isoDate(),
  event_type: eventType,
  total_events: count,
  unique_sessions: count,
  unique_users: count,
});
export type RollupRow = z.infer<typeof rollupRow>;

export const metricsInput = z
  .object({ from: z.optional(isoDate()), to: z.optional(isoDate()), eventType: z.optional(eventType) })
  .check(
    z.refine((v) => v.from === undefined || v.to === undefined || v.from <= v.to, {
      message: "from must not be after to",
      path: ["to"],
    }),
  );
export type MetricsInput = z.input<typeof metricsInput>;
