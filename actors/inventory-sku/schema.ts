import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * One InventorySKU actor holds the stock of one SKU (its name). Times are ISO-8601 strings
 * written by the actor (never SQLite's CURRENT_TIMESTAMP, whose format does not sort with them).
 */

export const RESERVATION_STATUSES = ["PENDING", "CONFIRMED", "EXPIRED", "RELEASED"] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

export const LOG_OPERATIONS = ["RESERVE", "CONFIRM", "RELEASE", "EXPIRE", "RESTOCK", "ADJUST"] as const;
export type LogOperation = (typeof LOG_OPERATIONS)[number];

/** The stock figures: a single row. The CHECKs make overselling impossible even for a buggy caller. */
export const inventory = sqliteTable(
  "inventory",
  {
    sku: text("sku").primaryKey(),
    productName: text("product_name").notNull(),
    available: integer("available").notNull().default(0),
    reserved: integer("reserved").notNull().default(0),
    sold: integer("sold").notNull().default(0),
    /** Everything ever restocked: available + reserved + sold always equals it. */
    restocked: integer("restocked").notNull().default(0),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    check("inventory_available_not_negative", sql`${t.available} >= 0`),
    check("inventory_reserved_not_negative", sql`${t.reserved} >= 0`),
    check("inventory_sold_not_negative", sql`${t.sold} >= 0`),
    check("inventory_conserved", sql`${t.available} + ${t.reserved} + ${t.sold} = ${t.restocked}`),
  ],
);

/** One reservation per order id: the id is what makes reserve idempotent. */
export const reservations = sqliteTable(
  "reservations",
  {
    id: text("id").primaryKey(),
    quantity: integer("quantity").notNull(),
    status: text("status", { enum: RESERVATION_STATUSES }).notNull(),
    createdAt: text("created_at").notNull(),
    expiresAt: text("expires_at").notNull(),
    confirmedAt: text("confirmed_at"),
    releasedAt: text("released_at"),
    releaseReason: text("release_reason"),
    /** Set when the Order actor reserved: confirm and release then need this key (or an admin). */
    ownerKey: text("owner_key"),
  },
  (t) => [
    check("reservations_quantity_positive", sql`${t.quantity} > 0`),
    check("reservations_status_known", sql`${t.status} IN ('PENDING', 'CONFIRMED', 'EXPIRED', 'RELEASED')`),
    // Serves both the expiry sweep and the count of pending reservations.
    index("idx_reservations_pending_expiry").on(t.expiresAt).where(sql`status = 'PENDING'`),
  ],
);

/**
 * The audit trail: every change of the figures, with correct before and after values. Append-only
 * (the actor never deletes from it), so ids never come back: a plain rowid key, no AUTOINCREMENT
 * (which reads and writes sqlite_sequence on every insert).
 */
export const inventoryLog = sqliteTable(
  "inventory_log",
  {
    id: integer("id").primaryKey(),
    operation: text("operation", { enum: LOG_OPERATIONS }).notNull(),
    quantity: integer("quantity").notNull(),
    referenceId: text("reference_id"),
    availableBefore: integer("available_before").notNull(),
    availableAfter: integer("available_after").notNull(),
    reservedBefore: integer("reserved_before").notNull(),
    reservedAfter: integer("reserved_after").notNull(),
    soldBefore: integer("sold_before").notNull(),
    soldAfter: integer("sold_after").notNull(),
    reason: text("reason"),
    timestamp: text("timestamp").notNull(),
  },
  (t) => [
    check(
      "inventory_log_operation_known",
      sql`${t.operation} IN ('RESERVE', 'CONFIRM', 'RELEASE', 'EXPIRE', 'RESTOCK', 'ADJUST')`,
    ),
  ],
);
