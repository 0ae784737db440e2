import * as z from "zod/mini";
import { NAME_PATTERN } from "../../src/coordinator/validate";
import { LOG_OPERATIONS } from "./schema";

/** The largest quantity one call may move; anything above is a typo or an attack, not an order. */
export const MAX_QUANTITY = 1_000_000_000;
export const DEFAULT_TTL_MINUTES = 15;
export const MAX_TTL_MINUTES = 7 * 24 * 60;
export const MAX_BATCH = 500;
export const MAX_HISTORY = 1000;

/** Order ids name Order actors too, so they follow the actor-name rule. */
export const orderId = z
  .string()
  .check(z.regex(NAME_PATTERN, "must be 1-128 characters of A-Z a-z 0-9 . _ -"));
const quantity = z.int().check(z.gte(1), z.lte(MAX_QUANTITY));
const shortText = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));

export const reserveInput = z.object({
  orderId,
  quantity,
  ttlMinutes: z.optional(z.int().check(z.gte(1), z.lte(MAX_TTL_MINUTES))),
});
export type ReserveInput = z.input<typeof reserveInput>;

export const reserveManyInput = z.object({
  items: z.array(reserveInput).check(z.minLength(1), z.maxLength(MAX_BATCH)),
});
export type ReserveManyInput = z.input<typeof reserveManyInput>;

export const confirmInput = z.object({ orderId });
export type ConfirmInput = z.input<typeof confirmInput>;

export const releaseInput = z.object({ orderId, reason: z.optional(shortText(500)) });
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
export const timestampInput = z.union([
  z.iso.datetime({ offset: true }),
  z.int().check(z.gte(0), z.lte(8.64e15)),
]);
export type TimestampInput = z.input<typeof timestampInput>;

export const stateAtInput = z.object({ timestamp: timestampInput });
