// Migration 0002 of Order adds payments.refund_reason (drizzle-kit rebuilds the table for its
// check). A payment recorded REFUND_DUE before it (the order could not be paid by it: the only
// reason then) must come out with reason ORDER_NOT_PAYABLE, so its replay still answers
// PAYMENT_REFUND_DUE; the payment that paid an order keeps no reason. The old order is made for
// real: a fresh actor's payments table taken back to migration 0001, then migrated by the same
// applyMigrations the actor runs on wake.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Order } from "../actors/index";
import migrations from "../migrations/order/migrations.js";
import { ActorError, applyMigrations } from "../src/index";
import { fresh, order } from "./order-helpers";

/** `payments` as migration 0001 left it. */
const PAYMENTS_0001 = `CREATE TABLE payments (
  id text PRIMARY KEY NOT NULL, order_id text NOT NULL, provider text NOT NULL, provider_id text,
  amount integer NOT NULL, status text NOT NULL, created_at text NOT NULL, completed_at text,
  FOREIGN KEY (order_id) REFERENCES order_header(id),
  CONSTRAINT payments_status_known CHECK(status IN ('PENDING', 'SUCCEEDED', 'FAILED', 'REFUNDED', 'REFUND_DUE')),
  CONSTRAINT payments_amount_not_negative CHECK(amount >= 0))`;

describe("Order: upgrade to payments.refund_reason (migration 0002)", () => {
  it("a REFUND_DUE payment recorded before is ORDER_NOT_PAYABLE after it; the paying payment has no reason", async () => {
    const id = fresh("upgrade");
    const report = await runInDurableObject(order(id), (_actor: Order, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE payments");
      sql.exec(PAYMENTS_0001);
      sql.exec("DELETE FROM _dosql_migrations WHERE tag = '0002_payment_refund_reason'");
      const at = new Date().toISOString();
      sql.exec(
        "INSERT INTO order_header (id, customer_id, status, subtotal, total, created_at, updated_at) VALUES (?, 'cust-u', 'PAID', 20, 20, ?, ?)",
        id,
        at,
        at,
      );
      const pay =
        "INSERT INTO payments (id, order_id, provider, provider_id, amount, status, created_at, completed_at) VALUES (?, ?, 'stripe', ?, 20, ?, ?, ?)";
      sql.exec(pay, "pi_paid", id, null, "SUCCEEDED", at, at);
      sql.exec(pay, "pi_twice", id, "ch_t", "REFUND_DUE", at, at);
      const applied = applyMigrations(state.storage, migrations).applied;
      const rows = sql.exec("SELECT id, status, refund_reason FROM payments ORDER BY id").toArray();
      return { applied, rows };
    });
    expect(report.applied).toEqual(["0002_payment_refund_reason"]);
    expect(report.rows).toEqual([
      { id: "pi_paid", status: "SUCCEEDED", refund_reason: null },
      { id: "pi_twice", status: "REFUND_DUE", refund_reason: "ORDER_NOT_PAYABLE" },
    ]);
    // Through the actor: the old refund-due payment answers as it did, and can be marked refunded.
    const replay = await order(id)
      .markPaid({ paymentId: "pi_twice", provider: "stripe", providerId: "ch_t", amount: 20 })
      .then(
        () => undefined,
        (err) => ActorError.from(err),
      );
    expect(replay?.code).toBe("PAYMENT_REFUND_DUE");
    const { order: view } = await order(id).markRefunded({ paymentId: "pi_twice" });
    expect(view.payments.map((p) => [p.id, p.status])).toEqual([
      ["pi_paid", "SUCCEEDED"],
      ["pi_twice", "REFUNDED"],
    ]);
  });
});
