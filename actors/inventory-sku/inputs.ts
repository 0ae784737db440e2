import * as z from "zod/mini";
import { NAME_PATTERN } from "../../src/coordinator/validate";
import { isoDateTime } from "../../src/iso-input";
import { LOG_OPERATIONS } from "./schema";

/** The largest quantity one call may move; anything above is a typo or an attack, not an order. */
export const MAX_QUANTITY = 1_000_000_000;
export const DEFAULT_TTL_MINUTES = 15;
/** The longest hold by default; a deployment may set `INVENTORY_MAX_TTL_MINUTES` (up to `TTL_CEILING_MINUTES`). */
export const MAX_TTL_MINUTES = 60;
export const TTL_CEILING_MINUTES = 7 * 24 * 60;
export const MAX_BATCH = 500;
export const MAX_HISTORY = 1000;

/** Order ids name Order actors too, so they follow the actor-name rule. */
export const orderId = z
  .string()
  .check(z.regex(NAME_PATTERN, "must be 1-128 characters of A-Z a-z 0-9 . _ - (not . or ..)"));
const quantity = z.int().check(z.gte(1), z.lte(MAX_QUANTITY));
const shortText = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));

/** The Order actor's proof that a call comes from that order (random, kept by the order). */
const key = z.optional(z.string().check(z.minLength(16), z.maxLength(64)));

/** The configured longest hold: `INVENTORY_MAX_TTL_MINUTES` when it is a whole number in range, else 60. */
export function maxTtlMinutes(env: { INVENTORY_MAX_TTL_MINUTES?: string } | undefined): number {
  const value = Number(env?.INVENTORY_MAX_TTL_MINUTES);
  return Number.isInteger(value) && value >= 1 && value <= TTL_CEILING_MINUTES ? value : MAX_TTL_MINUTES;
}

export const reserveInput = z.object({
  orderId,
  quantity,
  ttlMinutes: z.optional(z.int().check(z.gte(1), z.lte(TTL_CEILING_MINUTES))),
  key,
});
export type ReserveInput = z.input<typeof reserveInput>;

export const reserveManyInput = z.object({
  items: z.array(reserveInput).check(z.minLength(1), z.maxLength(MAX_BATCH)),
});
export type ReserveManyInput = z.input<typeof reserveManyInput>;

/**
 * `key`: the order's proof; `admin`: the call comes from an admin (set by the admin-only
 * route, never by a customer), and is recorded as such in the log.
 */
export const confirmInput = z.object({ orderId, key, admin: z.optional(z.boolean()) });
export type ConfirmInput = z.input<typeof confirmInput>;

export const releaseInput = z.object({
  orderId,
  reason: z.optional(shortText(500)),
  key,
  admin: z.optional(z.boolean()),
});
export type ReleaseInput = z.input<typeof releaseInput>;

export const restockInput = z.object({
  quantity,
  reference: z.optional(shortText(128)),
  productName: z.optional(shortText(200)),
});
export type RestockInput = z.input<typeof restockInput>;

export const historyInput = z.object({
  limit: z.optional(z.int().check(z.gte(1), z.lte(MAX_HISTORY))),
  operation: z.optional(z.enum(LOG_OPERATIONS)),
  /** Page backwards: only entries with an id below this one. */
  beforeId: z.optional(z.int().check(z.gte(1))),
});
export type HistoryInput = z.input<typeof historyInput>;

/** A moment: an ISO-8601 date-time (with offset or Z) or epoch milliseconds. */
export const timestampInput = z.union([isoDateTime(), z.int().check(z.gte(0), z.lte(8.64e15))]);
export type TimestampInput = z.input<typeof timestampInput>;

/** A moment that has passed (`state-at` asks what was, not what will be). */
export const pastTimestampInput = timestampInput.check(
  z.refine(
    (value) => (typeof value === "number" ? value : Date.parse(value)) <= Date.now(),
    "must not be in the future",
  ),
);

export const stateAtInput = z.object({ timestamp: pastTimestampInput });
