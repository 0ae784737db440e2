// A payment the provider took must never be forgotten: one that reaches an order that can no
// longer be paid by it (cancelled first, or already paid by another payment) is recorded as
// REFUND_DUE, with its provider id, and answered 409 PAYMENT_REFUND_DUE; idempotent per payment id.
import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { OrderView } from "../actors/order/order";
import type { ErrorBody } from "../src/index";

let seq = 0;
const fresh = (prefix: string) => `${prefix}-${Date.now()}-${seq++}`;
const sku = (name: string) => env.INVENTORY_SKU.getByName(name);
const order = (id: string) => env.ORDER.getByName(id);

const post = (path: string, body: unknown) =>
  exports.default.fetch(`http://coordinator${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

async function stock(prefix: string, quantities: number[]) {
  const names = quantities.map((_, i) => `${prefix}-sku${i}`);
  await Promise.all(names.map((n, i) => sku(n).restock({ quantity: quantities[i] })));
  return names;
}

async function figures(names: string[]) {
  return Promise.all(
    names.map(async (n) => {
      const s = await sku(n).status();
      return { available: s.available, reserved: s.reserved, sold: s.sold };
    }),
  );
}

/** A checked-out order moved to PAYMENT_PENDING (the customer is at the payment page). */
async function awaitingPayment(prefix: string) {
  const id = fresh(prefix);
  const skus = await stock(id, [5, 5]);
  const res = await post("/checkout", {
    orderId: id,
    customerId: "cust-p",
    items: skus.map((s) => ({ sku: s, quantity: 1, unitPrice: 700 })),
  });
  expect(res.status).toBe(201);
  expect((await post(`/orders/${id}/status`, { status: "PAYMENT_PENDING" })).status).toBe(200);
  return { id, skus, total: 1400 };
}

describe("a payment that arrives after the order was cancelled", () => {
  it("is recorded as REFUND_DUE with its provider id and answered PAYMENT_REFUND_DUE; a replay answers the same and writes nothing", async () => {
    const { id, skus, total } = await awaitingPayment("late-pay");
    expect((await post(`/orders/${id}/cancel`, { reason: "changed my mind" })).status).toBe(200);
    const webhook = { paymentId: "pi_late", provider: "stripe", providerId: "ch_123", amount: total };
    for (let i = 0; i < 2; i++) {
      const res = await post(`/orders/${id}/pay`, webhook);
      expect(res.status, `attempt ${i}`).toBe(409);
      expect(((await res.json()) as ErrorBody).error).toMatchObject({
        code: "PAYMENT_REFUND_DUE",
        details: {
          orderId: id,
          paymentId: "pi_late",
          provider: "stripe",
          providerId: "ch_123",
          amount: total,
          orderStatus: "CANCELLED",
        },
      });
    }
    const { order: view } = await order(id).get();
    expect(view.status).toBe("CANCELLED");
    expect(view.payments).toMatchObject([
      { id: "pi_late", provider: "stripe", providerId: "ch_123", amount: total, status: "REFUND_DUE" },
    ]);
    expect(view.statusLog.filter((e) => e.reason?.includes("pi_late"))).toMatchObject([
      { fromStatus: "CANCELLED", toStatus: "CANCELLED", actor: "system" },
    ]);
    // The same payment id with other figures is still PAYMENT_EXISTS.
    const other = await post(`/orders/${id}/pay`, { ...webhook, providerId: "ch_999" });
    expect(other.status).toBe(409);
    expect(((await other.json()) as ErrorBody).error.code).toBe("PAYMENT_EXISTS");
    // The stock the cancel gave back stays given back: nothing sold for a cancelled order.
    expect(await figures(skus)).toEqual(skus.map(() => ({ available: 5, reserved: 0, sold: 0 })));
  });

  it("cancel and payment racing over HTTP: whichever wins, the payment is recorded and the stock matches the order", async () => {
    const orders = await Promise.all(Array.from({ length: 6 }, () => awaitingPayment("race")));
    const answers = await Promise.all(
      orders.map(async ({ id, total }, i) => {
        const pay = () =>
          post(`/orders/${id}/pay`, { paymentId: `pi_${i}`, provider: "stripe", amount: total });
        const cancel = () => post(`/orders/${id}/cancel`, {});
        const [a, b] = await Promise.all(i % 2 ? [pay(), cancel()] : [cancel(), pay()]);
        return i % 2 ? { pay: a, cancel: b } : { pay: b, cancel: a };
      }),
    );
    for (const [i, { id, skus, total }] of orders.entries()) {
      const view: OrderView = (await order(id).get()).order;
      expect(view.payments).toHaveLength(1);
      expect(view.payments[0]).toMatchObject({ id: `pi_${i}`, amount: total });
      const { pay, cancel } = answers[i];
      if (view.status === "PAID") {
        expect(pay.status).toBe(200);
        expect(cancel.status).toBe(409);
        expect(view.payments[0].status).toBe("SUCCEEDED");
        expect(await figures(skus)).toEqual(skus.map(() => ({ available: 4, reserved: 0, sold: 1 })));
      } else {
        expect(view.status).toBe("CANCELLED");
        expect(cancel.status).toBe(200);
        expect(pay.status).toBe(409);
        expect(((await pay.json()) as ErrorBody).error.code).toBe("PAYMENT_REFUND_DUE");
        expect(view.payments[0].status).toBe("REFUND_DUE");
        expect(await figures(skus)).toEqual(skus.map(() => ({ available: 5, reserved: 0, sold: 0 })));
      }
    }
  });
});

describe("a second payment for an order already paid", () => {
  it("is recorded as REFUND_DUE (the customer paid twice), not refused unrecorded; the first payment and the sale stand", async () => {
    const { id, skus, total } = await awaitingPayment("twice");
    expect(
      (await post(`/orders/${id}/pay`, { paymentId: "pi_a", provider: "stripe", amount: total })).status,
    ).toBe(200);
    const second = await post(`/orders/${id}/pay`, {
      paymentId: "pi_b",
      provider: "stripe",
      providerId: "ch_b",
      amount: total,
    });
    expect(second.status).toBe(409);
    expect(((await second.json()) as ErrorBody).error).toMatchObject({
      code: "PAYMENT_REFUND_DUE",
      details: { paymentId: "pi_b", providerId: "ch_b", orderStatus: "PAID" },
    });
    const { order: view } = await order(id).get();
    expect(view.status).toBe("PAID");
    expect(view.payments.map((p) => [p.id, p.status]).sort()).toEqual([
      ["pi_a", "SUCCEEDED"],
      ["pi_b", "REFUND_DUE"],
    ]);
    expect(await figures(skus)).toEqual(skus.map(() => ({ available: 4, reserved: 0, sold: 1 })));
  });
});

describe("a payment whose amount does not match the order total", () => {
  it("is recorded as REFUND_DUE and logged, answered PAYMENT_AMOUNT_MISMATCH with its details; a replay answers the same and writes nothing; the order does not change", async () => {
    const { id, skus, total } = await awaitingPayment("mismatch");
    const webhook = { paymentId: "pi_short", provider: "stripe", providerId: "ch_s", amount: total - 1 };
    for (let i = 0; i < 2; i++) {
      const res = await post(`/orders/${id}/pay`, webhook);
      expect(res.status, `attempt ${i}`).toBe(409);
      expect(((await res.json()) as ErrorBody).error).toMatchObject({
        code: "PAYMENT_AMOUNT_MISMATCH",
        details: {
          orderId: id,
          orderStatus: "PAYMENT_PENDING",
          paymentId: "pi_short",
          provider: "stripe",
          providerId: "ch_s",
          amount: total - 1,
          total,
          paymentStatus: "REFUND_DUE",
        },
      });
    }
    const { order: view } = await order(id).get();
    expect(view.status).toBe("PAYMENT_PENDING");
    expect(view.payments).toMatchObject([
      { id: "pi_short", providerId: "ch_s", amount: total - 1, status: "REFUND_DUE" },
    ]);
    expect(view.statusLog.filter((e) => e.reason?.includes("pi_short"))).toMatchObject([
      { fromStatus: "PAYMENT_PENDING", toStatus: "PAYMENT_PENDING", actor: "system" },
    ]);
    // The stock is still held for the order, not sold; the right payment then pays it.
    expect(await figures(skus)).toEqual(skus.map(() => ({ available: 4, reserved: 1, sold: 0 })));
    const paid = await post(`/orders/${id}/pay`, {
      paymentId: "pi_right",
      provider: "stripe",
      amount: total,
    });
    expect(paid.status).toBe(200);
    expect((await order(id).get()).order.payments.map((p) => [p.id, p.status]).sort()).toEqual([
      ["pi_right", "SUCCEEDED"],
      ["pi_short", "REFUND_DUE"],
    ]);
    // The mismatched payment id again still answers the mismatch, after the order was paid too.
    const replay = await post(`/orders/${id}/pay`, webhook);
    expect(((await replay.json()) as ErrorBody).error).toMatchObject({
      code: "PAYMENT_AMOUNT_MISMATCH",
      details: { paymentId: "pi_short", orderStatus: "PAID" },
    });
  });
});

describe("marking a refund-due payment refunded", () => {
  it("REFUND_DUE becomes REFUNDED with a log entry, over HTTP and RPC; again it answers the same and writes nothing; the order keeps its status", async () => {
    const { id, total } = await awaitingPayment("refunded");
    expect((await post(`/orders/${id}/cancel`, {})).status).toBe(200);
    const webhook = { paymentId: "pi_back", provider: "stripe", providerId: "ch_b", amount: total };
    expect((await post(`/orders/${id}/pay`, webhook)).status).toBe(409);
    const res = await post(`/orders/${id}/refunded`, { paymentId: "pi_back", actor: "ops-2" });
    expect(res.status).toBe(200);
    const view = ((await res.json()) as { order: OrderView }).order;
    expect(view.status).toBe("CANCELLED");
    expect(view.payments).toMatchObject([{ id: "pi_back", status: "REFUNDED" }]);
    expect(view.statusLog.at(-1)).toMatchObject({
      fromStatus: "CANCELLED",
      toStatus: "CANCELLED",
      actor: "ops-2",
      reason: "payment pi_back via stripe refunded",
    });
    const again = await order(id).markRefunded({ paymentId: "pi_back" });
    expect(again.order.statusLog).toHaveLength(view.statusLog.length);
    expect(again.order.payments).toEqual(view.payments);
    // The webhook again still says the payment was not taken, and now that it was refunded.
    const replay = await post(`/orders/${id}/pay`, webhook);
    expect(((await replay.json()) as ErrorBody).error).toMatchObject({
      code: "PAYMENT_REFUND_DUE",
      details: { paymentId: "pi_back", paymentStatus: "REFUNDED" },
    });
    expect((await order(id).get()).order.payments).toEqual(view.payments);
  });

  it("refuses what is not this order's refund-due payment, and bad input, writing nothing", async () => {
    const a = await awaitingPayment("refunded-a");
    const b = await awaitingPayment("refunded-b");
    // Order a owes pi_due back (a wrong amount); order b was paid by pi_paid.
    expect(
      (await post(`/orders/${a.id}/pay`, { paymentId: "pi_due", provider: "stripe", amount: 1 })).status,
    ).toBe(409);
    expect(
      (await post(`/orders/${b.id}/pay`, { paymentId: "pi_paid", provider: "stripe", amount: b.total }))
        .status,
    ).toBe(200);
    const before = await Promise.all([order(a.id).get(), order(b.id).get()]);
    const refusals: [string, unknown, number, string][] = [
      // Another order's payment is not found through this order.
      [b.id, { paymentId: "pi_due" }, 404, "PAYMENT_NOT_FOUND"],
      [a.id, { paymentId: "pi_none" }, 404, "PAYMENT_NOT_FOUND"],
      // The payment that paid the order is refunded with the order (status REFUNDED).
      [b.id, { paymentId: "pi_paid" }, 409, "PAYMENT_NOT_REFUND_DUE"],
      [fresh("no-such-order"), { paymentId: "pi_due" }, 404, "ORDER_NOT_FOUND"],
      [a.id, {}, 400, "VALIDATION_FAILED"],
      [a.id, { paymentId: ".." }, 400, "VALIDATION_FAILED"],
      [a.id, { paymentId: "pi_due", reason: "" }, 400, "VALIDATION_FAILED"],
      [a.id, { paymentId: "pi_due", actor: "x".repeat(129) }, 400, "VALIDATION_FAILED"],
    ];
    for (const [orderId, body, status, code] of refusals) {
      const res = await post(`/orders/${orderId}/refunded`, body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(((await res.json()) as ErrorBody).error.code).toBe(code);
    }
    expect(await Promise.all([order(a.id).get(), order(b.id).get()])).toEqual(before);
  });
});
