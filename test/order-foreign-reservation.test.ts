// RESERVATION_OWNED is a final answer: the SKU holds that reservation under another key (another
// caller reserved under this order's id first), so asking again answers the same forever. The
// order must settle the line at once, not retry it as if the SKU were unreachable.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Order } from "../actors/index";
import { checkout, fresh, order, sku, stock } from "./order-helpers";

/** An order of two SKUs whose second reservation another caller made first, under its own key. */
async function foreignLine(prefix: string) {
  const id = fresh(prefix);
  const skus = await stock(id, [3, 3]);
  await sku(skus[1]).reserve({ orderId: id, quantity: 1, key: "someone-elses-key-0123456789" });
  // The SKU answers the checkout's reserve as a replay of that reservation: the order believes it holds it.
  expect((await checkout(id, skus, { customerId: "cust-f" })).status).toBe(201);
  return { id, skus };
}

const confirmTask = (id: string) =>
  runInDurableObject(order(id), (actor: Order) => actor.schedule.get("confirm"));

describe("a reservation another caller owns", () => {
  it("markPaid reports it unconfirmed, marks the line FAILED and logs it, and leaves no confirm retry", async () => {
    const { id, skus } = await foreignLine("owned-pay");
    const paid = await order(id).markPaid({ paymentId: "pi_f", provider: "stripe", amount: 20 });
    expect(paid.order.status).toBe("PAID");
    expect(paid.unconfirmed).toMatchObject([{ sku: skus[1], code: "RESERVATION_OWNED" }]);
    expect(paid.order.lines.map((l) => l.reservationStatus)).toEqual(["CONFIRMED", "FAILED"]);
    expect(paid.order.statusLog.at(-1)).toMatchObject({
      fromStatus: "PAID",
      toStatus: "PAID",
      details: { failure: { sku: skus[1], code: "RESERVATION_OWNED" } },
    });
    expect(await confirmTask(id)).toBeUndefined();
    // The other caller's reservation is untouched: still held, not sold.
    expect(await sku(skus[1]).status()).toMatchObject({ available: 2, reserved: 1, sold: 0 });
  });

  it("a cancel settles at once: the order's own stock is given back, the foreign line is FAILED and logged", async () => {
    const { id, skus } = await foreignLine("owned-cancel");
    const { order: view } = await order(id).cancel({ reason: "changed my mind" });
    expect(view.status).toBe("CANCELLED");
    expect(view.lines.map((l) => l.reservationStatus)).toEqual(["RELEASED", "FAILED"]);
    expect(view.statusLog.some((e) => e.details?.failure?.code === "RESERVATION_OWNED")).toBe(true);
    expect(await sku(skus[0]).status()).toMatchObject({ available: 3, reserved: 0 });
    expect(await sku(skus[1]).status()).toMatchObject({ available: 2, reserved: 1 });
  });
});
