import * as z from "zod/mini";
import { isoDateTime } from "../../src/iso-input";

/** The name of the one central actor every building forwards to (BuildingTelemetry's CENTRAL.name). */
export const CENTRAL_NAME = "central";
export const MAX_ROWS = 100_000;

const finite = z.number().check(z.refine(Number.isFinite, "must be a finite number"));

/** A moment: epoch milliseconds or an ISO-8601 date-time (with offset or Z). */
const timestampInput = z.union([z.int().check(z.gte(0), z.lte(8.64e15)), isoDateTime()]);

export const toMs = (value: z.infer<typeof timestampInput>): number =>
  typeof value === "number" ? value : Date.parse(value);

export const rollupsInput = z
  .object({
    from: z.optional(timestampInput),
    to: z.optional(timestampInput),
    sensorType: z.optional(z.enum(["temperature", "humidity", "co2", "occupancy", "power", "water"])),
    building: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  })
  .check(
    z.refine(
      (r) => r.from === undefined || r.to === undefined || toMs(r.from) <= toMs(r.to),
      "from must not be after to",
    ),
  );
export type RollupsInput = z.input<typeof rollupsInput>;

/** One forwarded hourly_aggregates row (the building's after image). */
export const hourlyRow = z.object({
  sensor_id: z.string().check(z.minLength(1), z.maxLength(128)),
  sensor_type: z.string().check(z.minLength(1), z.maxLength(32)),
  hour: z.int().check(z.gte(0)),
  min_value: finite,
  max_value: finite,
  sum_value: finite,
  reading_count: z.int().check(z.gte(0)),
});
