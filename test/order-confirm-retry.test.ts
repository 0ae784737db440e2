// A confirm that fails transiently inside markPaid must not leave a paid line RESERVED at its SKU
// (where the reservation would expire and its stock be sold again): the order's own schedule
// retries it until the line is sold. Real SKU resets (state.abort), real alarms, real eviction.
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { InventorySKU, Order } from "../actors/index";
import { checkout, fresh, order, runTask, sku, sleep, stock } from "./order-helpers";

/** The SKU is busy, then reset: a call waiting for it fails the way a crashed or redeployed object fails. */
function resetSoon(name: string) {
  return runInDurableObject(sku(name), async (_actor, state) => {
    setTimeout(() => state.abort("reset on purpose"), 150);
    await state.blockConcurrencyWhile(() => sleep(600));
  }).catch(() => undefined);
}

const task = (orderId: string, key: string) =>
  runInDurableObject(order(orderId), (actor: Order) => actor.schedule.get(key));

const figures = (name: string) =>
  runInDurableObject(sku(name), (actor: InventorySKU) => {
    const [inv] = actor.query<{ available: number; reserved: number; sold: number; restocked: number }>(
      "SELECT available, reserved, sold, restocked FROM inventory",
    );
    return inv;
  });

const lineStatuses = async (orderId: string) =>
  (await order(orderId).get()).order.lines.map((l) => l.reservationStatus);

describe("a confirm that fails inside markPaid", () => {
  it("is retried by the order's own schedule (across eviction and a second failure) until the line is CONFIRMED and sold", async () => {
    const id = fresh("confirm-retry");
    const skus = await stock(id, [3, 3]);
    expect((await checkout(id, skus, { customerId: "cust-r" })).status).toBe(201);
    const busy = resetSoon(skus[1]);
    await sleep(50);
    const paid = await order(id).markPaid({ paymentId: "pi_r", provider: "stripe", amount: 20 });
    await busy;
    expect(paid.order.status).toBe("PAID");
    expect(paid.unconfirmed).toMatchObject([{ sku: skus[1], code: "UNAVAILABLE" }]);
    expect(paid.order.lines.map((l) => l.reservationStatus)).toEqual(["CONFIRMED", "RESERVED"]);
    expect(await figures(skus[1])).toMatchObject({ available: 2, reserved: 1, sold: 0 });

    // The retry is durable: a schedule of the order, still there after eviction.
    await evictDurableObject(order(id));
    expect(await task(id, "confirm")).toMatchObject({ method: "confirmPaid", status: "scheduled" });

    // The SKU is still refusing at the first retry: the task fails, stays, and is retried later.
    const busyAgain = resetSoon(skus[1]);
    await sleep(50);
    await runTask(id, "confirm");
    await busyAgain;
    expect(await lineStatuses(id)).toEqual(["CONFIRMED", "RESERVED"]);
    expect(await task(id, "confirm")).toMatchObject({ status: "scheduled", attempts: 1 });

    // The SKU answers again: the next run confirms the line and the task ends.
    expect(await runTask(id, "confirm")).toBe(true);
    expect(await lineStatuses(id)).toEqual(["CONFIRMED", "CONFIRMED"]);
    expect(await task(id, "confirm")).toBeUndefined();
    for (const s of skus) {
      const f = await figures(s);
      expect(f).toEqual({ available: 2, reserved: 0, sold: 1, restocked: 3 });
      expect(f.available + f.reserved + f.sold).toBe(f.restocked);
    }

    // The reservation's time passing now changes nothing: the unit is sold, not back on sale.
    await runInDurableObject(sku(skus[1]), (actor: InventorySKU) =>
      actor.run("UPDATE reservations SET expires_at = ? WHERE id = ?", [
        new Date(Date.now() - 1000).toISOString(),
        id,
      ]),
    );
    expect(await sku(skus[1]).expireReservations()).toEqual({ expired: 0 });
    expect(await figures(skus[1])).toEqual({ available: 2, reserved: 0, sold: 1, restocked: 3 });
  });

  it("a paid order whose lines all confirmed keeps no retry task", async () => {
    const id = fresh("confirm-ok");
    const skus = await stock(id, [2]);
    expect((await checkout(id, skus, { customerId: "cust-r" })).status).toBe(201);
    await order(id).markPaid({ paymentId: "pi_ok", provider: "stripe", amount: 10 });
    expect(await task(id, "confirm")).toBeUndefined();
    expect(await lineStatuses(id)).toEqual(["CONFIRMED"]);
  });
});

describe("a paid order refunded while a confirm is still pending", () => {
  /** A paid order of two SKUs whose second line stayed RESERVED (its SKU was reset during markPaid). */
  async function paidWithPendingConfirm(prefix: string) {
    const id = fresh(prefix);
    const skus = await stock(id, [3, 3]);
    expect((await checkout(id, skus, { customerId: "cust-r" })).status).toBe(201);
    const busy = resetSoon(skus[1]);
    await sleep(50);
    const paid = await order(id).markPaid({ paymentId: "pi_rf", provider: "stripe", amount: 20 });
    await busy;
    expect(paid.order.lines.map((l) => l.reservationStatus)).toEqual(["CONFIRMED", "RESERVED"]);
    expect(await task(id, "confirm")).toMatchObject({ status: "scheduled" });
    return { id, skus };
  }

  it("gives the unsold stock back at once and drops the confirm retry: nothing held until expiry, nothing sold later", async () => {
    const { id, skus } = await paidWithPendingConfirm("refund-pending");
    const { order: view } = await order(id).updateStatus({ status: "REFUNDED", reason: "customer refund" });
    expect(view.status).toBe("REFUNDED");
    expect(view.lines.map((l) => l.reservationStatus)).toEqual(["CONFIRMED", "RELEASED"]);
    expect(view.payments.map((p) => p.status)).toEqual(["REFUNDED"]);
    expect(await task(id, "confirm")).toBeUndefined();
    expect(await figures(skus[0])).toEqual({ available: 2, reserved: 0, sold: 1, restocked: 3 });
    expect(await figures(skus[1])).toEqual({ available: 3, reserved: 0, sold: 0, restocked: 3 });
    // The payment reported again changes nothing: no line is confirmed or failed after the refund.
    const replay = await order(id).markPaid({ paymentId: "pi_rf", provider: "stripe", amount: 20 });
    expect(replay.unconfirmed).toEqual([]);
    expect(replay.order.lines.map((l) => l.reservationStatus)).toEqual(["CONFIRMED", "RELEASED"]);
    expect(await figures(skus[1])).toEqual({ available: 3, reserved: 0, sold: 0, restocked: 3 });
  });

  it("a line the SKU did sell meanwhile (the lost answer of a confirm) is recorded CONFIRMED, and the refund goes through", async () => {
    const { id, skus } = await paidWithPendingConfirm("refund-sold");
    // The confirm reached the SKU, only its answer was lost: the SKU has sold the unit.
    await sku(skus[1]).confirm({ orderId: id, admin: true });
    const { order: view } = await order(id).updateStatus({ status: "REFUNDED" });
    expect(view.status).toBe("REFUNDED");
    expect(view.lines.map((l) => l.reservationStatus)).toEqual(["CONFIRMED", "CONFIRMED"]);
    expect(await task(id, "confirm")).toBeUndefined();
    expect(await figures(skus[1])).toEqual({ available: 2, reserved: 0, sold: 1, restocked: 3 });
  });
});
