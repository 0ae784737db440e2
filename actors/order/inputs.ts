import * as z from "zod/mini";
import { NAME_PATTERN } from "../../src/coordinator/validate";
import { ORDER_STATUSES } from "./schema";

export const MAX_LINES = 100;
export const MAX_LINE_QUANTITY = 1_000_000;
/** Cents: ten million dollars a unit is beyond any real price. */
export const MAX_UNIT_PRICE = 1_000_000_000;
const MAX_ADDRESS_JSON = 4096;

const name = z
  .string()
  .check(z.regex(NAME_PATTERN, "must be 1-128 characters of A-Z a-z 0-9 . _ - (not . or ..)"));
const shortText = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));

/** An address is a flat record of text fields (which fields varies by country), bounded in size. */
const address = z
  .record(z.string().check(z.maxLength(64)), z.string().check(z.maxLength(500)))
  .check(
    z.refine(
      (value) => JSON.stringify(value).length <= MAX_ADDRESS_JSON,
      `must be at most ${MAX_ADDRESS_JSON} bytes of JSON`,
    ),
  );
export type Address = z.output<typeof address>;

const line = z.object({
  sku: name,
  quantity: z.int().check(z.gte(1), z.lte(MAX_LINE_QUANTITY)),
  unitPrice: z.int().check(z.gte(0), z.lte(MAX_UNIT_PRICE)),
});

export const checkoutInput = z.object({
  orderId: name,
  customerId: shortText(128),
  items: z.array(line).check(
    z.minLength(1),
    z.maxLength(MAX_LINES),
    z.refine((items) => new Set(items.map((i) => i.sku)).size === items.length, "each sku may appear once"),
  ),
  shippingAddress: z.optional(address),
  billingAddress: z.optional(address),
});
export type CheckoutInput = z.input<typeof checkoutInput>;

/** `POST /checkout`'s body: the customer comes from the token (a body `customerId` is ignored for users). */
export const checkoutRouteInput = z.extend(checkoutInput, { customerId: z.optional(shortText(128)) });
export type Checkout = z.output<typeof checkoutInput>;

export const markPaidInput = z.object({
  paymentId: name,
  provider: shortText(64),
  providerId: z.optional(shortText(256)),
  /** Cents; must equal the order's total. */
  amount: z.int().check(z.gte(0), z.lte(Number.MAX_SAFE_INTEGER)),
});
export type MarkPaidInput = z.input<typeof markPaidInput>;

/** A REFUND_DUE payment the caller has refunded with its provider. */
export const markRefundedInput = z.object({
  paymentId: name,
  reason: z.optional(shortText(500)),
  actor: z.optional(shortText(128)),
});
export type MarkRefundedInput = z.input<typeof markRefundedInput>;

export const updateStatusInput = z.object({
  status: z.enum(ORDER_STATUSES),
  reason: z.optional(shortText(500)),
  actor: z.optional(shortText(128)),
});
export type UpdateStatusInput = z.input<typeof updateStatusInput>;

export const cancelInput = z.object({
  reason: z.optional(shortText(500)),
  actor: z.optional(shortText(128)),
});
export type CancelInput = z.input<typeof cancelInput>;
