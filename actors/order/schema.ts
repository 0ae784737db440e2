import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** One Order actor per order (its name is the order id). Money in integer cents; times ISO-8601. */

export const ORDER_STATUSES = [
  "PENDING",
  "RESERVED",
  "PAYMENT_PENDING",
  "PAID",
  "PROCESSING",
  "SHIPPED",
  "DELIVERED",
  "CANCELLED",
  "REFUNDED",
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Where each line's stock stands: asked for, held, sold, given back, or refused by the SKU. */
export const LINE_RESERVATION_STATUSES = ["PENDING", "RESERVED", "CONFIRMED", "RELEASED", "FAILED"] as const;
export type LineReservationStatus = (typeof LINE_RESERVATION_STATUSES)[number];

/**
 * REFUND_DUE: a payment the provider took for an order that could no longer be paid by it
 * (cancelled, refunded, or already paid by another payment): recorded so the money is not
 * forgotten, and owed back to the customer.
 */
export const PAYMENT_STATUSES = ["PENDING", "SUCCEEDED", "FAILED", "REFUNDED", "REFUND_DUE"] as const;

/**
 * Why a payment was owed back rather than taken (kept after it is refunded, so a replay of it
 * answers the same): the order could not be paid by it, or its amount was not the order's total.
 * Null for the payment that paid the order.
 */
export const REFUND_REASONS = ["ORDER_NOT_PAYABLE", "AMOUNT_MISMATCH"] as const;
export type RefundReason = (typeof REFUND_REASONS)[number];

export const orderHeader = sqliteTable(
  "order_header",
  {
    id: text("id").primaryKey(),
    customerId: text("customer_id").notNull(),
    status: text("status", { enum: ORDER_STATUSES }).notNull().default("PENDING"),
    subtotal: integer("subtotal").notNull(),
    tax: integer("tax").notNull().default(0),
    shipping: integer("shipping").notNull().default(0),
    total: integer("total").notNull(),
    shippingAddress: text("shipping_address"),
    billingAddress: text("billing_address"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    check(
      "order_header_status_known",
      sql`${t.status} IN ('PENDING', 'RESERVED', 'PAYMENT_PENDING', 'PAID', 'PROCESSING', 'SHIPPED', 'DELIVERED', 'CANCELLED', 'REFUNDED')`,
    ),
    check("order_header_total", sql`${t.total} = ${t.subtotal} + ${t.tax} + ${t.shipping}`),
  ],
);

export const orderLines = sqliteTable(
  "order_lines",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    orderId: text("order_id")
      .notNull()
      .references(() => orderHeader.id),
    sku: text("sku").notNull(),
    productName: text("product_name").notNull(),
    quantity: integer("quantity").notNull(),
    unitPrice: integer("unit_price").notNull(),
    lineTotal: integer("line_total").notNull(),
    reservationId: text("reservation_id"),
    reservationStatus: text("reservation_status", { enum: LINE_RESERVATION_STATUSES })
      .notNull()
      .default("PENDING"),
  },
  (t) => [
    check("order_lines_quantity_positive", sql`${t.quantity} > 0`),
    check("order_lines_total", sql`${t.lineTotal} = ${t.quantity} * ${t.unitPrice}`),
    check(
      "order_lines_reservation_status_known",
      sql`${t.reservationStatus} IN ('PENDING', 'RESERVED', 'CONFIRMED', 'RELEASED', 'FAILED')`,
    ),
    index("idx_order_lines_order").on(t.orderId),
  ],
);

export const statusLog = sqliteTable(
  "status_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    orderId: text("order_id")
      .notNull()
      .references(() => orderHeader.id),
    fromStatus: text("from_status"),
    toStatus: text("to_status").notNull(),
    reason: text("reason"),
    /** Who made the change: a user id, or 'system'. */
    actor: text("actor"),
    /** JSON facts behind the change (for a failed checkout: the per-SKU reasons). */
    details: text("details"),
    timestamp: text("timestamp").notNull(),
  },
  (t) => [index("idx_status_log_order").on(t.orderId)],
);

export const payments = sqliteTable(
  "payments",
  {
    id: text("id").primaryKey(),
    orderId: text("order_id")
      .notNull()
      .references(() => orderHeader.id),
    provider: text("provider").notNull(),
    providerId: text("provider_id"),
    amount: integer("amount").notNull(),
    status: text("status", { enum: PAYMENT_STATUSES }).notNull(),
    createdAt: text("created_at").notNull(),
    completedAt: text("completed_at"),
    refundReason: text("refund_reason", { enum: REFUND_REASONS }),
  },
  (t) => [
    check(
      "payments_refund_reason_known",
      sql`${t.refundReason} IS NULL OR ${t.refundReason} IN ('ORDER_NOT_PAYABLE', 'AMOUNT_MISMATCH')`,
    ),
    check(
      "payments_status_known",
      sql`${t.status} IN ('PENDING', 'SUCCEEDED', 'FAILED', 'REFUNDED', 'REFUND_DUE')`,
    ),
    check("payments_amount_not_negative", sql`${t.amount} >= 0`),
  ],
);
