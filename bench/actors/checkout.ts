import { DurableObject } from "cloudflare:workers";
import type { PlainInventory } from "./inventory";

type Line = { sku: string; quantity: number; unitPrice: number };
type HandOrderEnv = { PLAIN_INVENTORY: DurableObjectNamespace<PlainInventory> };
const ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * The checkout baseline: a hand-written order Durable Object doing the shape of Order.checkout —
 * write the order and its lines (one transaction), reserve every line from its SKU's hand-written
 * DO in parallel, then mark the lines and the order RESERVED (one transaction). No schedule, no
 * reservation key, no compensation on a refusal (the bench never runs short): the least a
 * hand-written checkout does on its success path.
 */
export class HandOrder extends DurableObject<HandOrderEnv> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: HandOrderEnv) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, customer_id TEXT NOT NULL,
      status TEXT NOT NULL, total INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`);
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS order_lines (id INTEGER PRIMARY KEY, sku TEXT NOT NULL,
      quantity INTEGER NOT NULL, unit_price INTEGER NOT NULL, reservation_status TEXT NOT NULL,
      reservation_id TEXT)`);
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS order_log (id INTEGER PRIMARY KEY, from_status TEXT,
      to_status TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL)`);
  }

  async checkout(orderId: string, customerId: string, items: Line[]): Promise<string> {
    if (!ID.test(orderId) || !Array.isArray(items) || items.length < 1) throw new Error("bad checkout");
    const at = new Date().toISOString();
    this.ctx.storage.transactionSync(() => {
      const total = items.reduce((sum, l) => sum + l.quantity * l.unitPrice, 0);
      this.#sql.exec(
        "INSERT INTO orders VALUES (?, ?, 'PENDING', ?, ?, ?)",
        orderId,
        customerId,
        total,
        at,
        at,
      );
      for (const l of items)
        this.#sql.exec(
          "INSERT INTO order_lines (sku, quantity, unit_price, reservation_status) VALUES (?, ?, ?, 'PENDING')",
          l.sku,
          l.quantity,
          l.unitPrice,
        );
      this.#sql.exec(
        "INSERT INTO order_log (from_status, to_status, reason, at) VALUES (NULL, 'PENDING', 'checkout started', ?)",
        at,
      );
    });
    const held = await Promise.all(
      items.map((l) => this.env.PLAIN_INVENTORY.getByName(l.sku).reserve({ orderId, quantity: l.quantity })),
    );
    const done = new Date().toISOString();
    this.ctx.storage.transactionSync(() => {
      for (const [i, l] of items.entries())
        this.#sql.exec(
          "UPDATE order_lines SET reservation_status = 'RESERVED', reservation_id = ? WHERE sku = ?",
          held[i].reservationId,
          l.sku,
        );
      this.#sql.exec("UPDATE orders SET status = 'RESERVED', updated_at = ?", done);
      this.#sql.exec(
        "INSERT INTO order_log (from_status, to_status, reason, at) VALUES ('PENDING', 'RESERVED', 'stock reserved', ?)",
        done,
      );
    });
    return "RESERVED";
  }
}
