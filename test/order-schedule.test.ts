// The Order actor's own schedule: an interrupted checkout never stays PENDING, and a RESERVED
// order follows its reservations' expiry. Real alarms (runDurableObjectAlarm), real aborts.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { InventorySKU, Order } from "../actors/index";
import { secured, userToken } from "./auth-helpers";
import { checkout, fresh, order, runTask, sku, sleep, stock } from "./order-helpers";

const scheduleKeys = (orderId: string) =>
  runInDurableObject(order(orderId), (actor: Order) => actor.schedule.list().map((s) => s.key));

const headerStatus = (orderId: string) =>
  runInDurableObject(
    order(orderId),
    (actor: Order) => actor.query<{ status: string }>("SELECT status FROM order_header")[0]?.status,
  );

/** Σ reserved at the SKUs must equal Σ held by RESERVED orders' lines. */
async function leak(skus: string[], orderIds: string[]) {
  let atSkus = 0;
  for (const s of skus) atSkus += (await sku(s).status()).reserved;
  let held = 0;
  for (const id of orderIds) {
    const view = (await order(id).get()).order;
    if (view.status === "RESERVED") held += view.lines.reduce((n, l) => n + l.quantity, 0);
  }
  return { atSkus, held };
}

describe("an interrupted checkout resolves by the order's own schedule", () => {
  it("crash mid-checkout (the order is reset while a SKU is slow): the schedule resumes it to RESERVED, nothing leaks", async () => {
    const id = fresh("crash");
    const skus = await stock(id, [5, 5, 5]);
    const busy = runInDurableObject(sku(skus[0]), (_a, state) =>
      state.blockConcurrencyWhile(() => sleep(700)),
    );
    const pending = checkout(id, skus);
    await sleep(250);
    // The order is reset mid-checkout: the in-flight request fails, the PENDING row stays.
    await runInDurableObject(order(id), (_a, state) => state.abort("crash on purpose")).catch(
      () => undefined,
    );
    const answer = await pending;
    expect(answer.status).toBeGreaterThanOrEqual(500);
    await busy;
    expect(await headerStatus(id)).toBe("PENDING");
    expect(await scheduleKeys(id)).toContain("checkout");
    expect(await runTask(id, "checkout")).toBe(true);
    const view = (await order(id).get()).order;
    expect(view.status).toBe("RESERVED");
    expect(view.statusLog.at(-1)).toMatchObject({ fromStatus: "PENDING", toStatus: "RESERVED" });
    expect(await scheduleKeys(id)).not.toContain("checkout");
    const { atSkus, held } = await leak(skus, [id]);
    expect(atSkus).toBe(held);
    expect(held).toBe(3);
  });

  it("a PENDING order that can no longer be reserved is cancelled by its schedule, its reservations released", async () => {
    const id = fresh("stuck");
    const skus = await stock(id, [4, 4, 1]);
    await sku(skus[2]).reserve({ orderId: "someone-else", quantity: 1 });
    // The state a crash leaves: PENDING with its lines, one SKU already holding stock.
    await runInDurableObject(order(id), (actor: Order) => {
      const at = new Date().toISOString();
      actor.run(
        "INSERT INTO order_header (id, customer_id, status, subtotal, total, created_at, updated_at) VALUES (?, 'cust-s', 'PENDING', 30, 30, ?, ?)",
        [id, at, at],
      );
      for (const s of skus)
        actor.run(
          "INSERT INTO order_lines (order_id, sku, product_name, quantity, unit_price, line_total) VALUES (?, ?, ?, 1, 10, 10)",
          [id, s, s],
        );
      actor.schedule.at(60_000, "resolveCheckout", undefined, { key: "checkout" });
    });
    await sku(skus[0]).reserve({ orderId: id, quantity: 1 });
    expect(await runTask(id, "checkout")).toBe(true);
    const view = (await order(id).get()).order;
    expect(view.status).toBe("CANCELLED");
    expect(view.statusLog.at(-1)?.reason).toMatch(/INSUFFICIENT_STOCK/);
    expect(await Promise.all(skus.map(async (s) => (await sku(s).status()).reserved))).toEqual([0, 0, 1]);
  });

  it("its owner can cancel an order left PENDING by a crash; the stock it may hold is given back", async () => {
    const id = fresh("owner-pending");
    const skus = await stock(id, [3, 3]);
    await runInDurableObject(order(id), (actor: Order) => {
      const at = new Date().toISOString();
      actor.run(
        "INSERT INTO order_header (id, customer_id, status, subtotal, total, created_at, updated_at) VALUES (?, 'lee', 'PENDING', 20, 20, ?, ?)",
        [id, at, at],
      );
      for (const s of skus)
        actor.run(
          "INSERT INTO order_lines (order_id, sku, product_name, quantity, unit_price, line_total) VALUES (?, ?, ?, 1, 10, 10)",
          [id, s, s],
        );
    });
    await env.DIRECTORY.getByName("orders").register(id);
    await sku(skus[1]).reserve({ orderId: id, quantity: 1 });
    const call = secured();
    const res = await call("POST", `/orders/${id}/cancel`, { token: await userToken("lee"), body: {} });
    expect(res.status).toBe(200);
    expect((await order(id).get()).order.status).toBe("CANCELLED");
    expect((await sku(skus[1]).status()).reserved).toBe(0);
  });
});

describe("a RESERVED order follows its reservations' expiry", () => {
  it("when the reservations expire unpaid, the order is cancelled saying why, and the stock is back", async () => {
    const id = fresh("expire");
    const skus = await stock(id, [6, 6]);
    const started = Date.now();
    expect((await checkout(id, skus, { quantity: 2 })).status).toBe(201);
    const task = await runInDurableObject(order(id), (actor: Order) =>
      actor.schedule.get("reservation-expiry"),
    );
    // Scheduled at the first reservation's expiry (15 minutes by default), plus a second.
    expect(task?.nextRunAt).toBeGreaterThanOrEqual(started + 15 * 60_000);
    expect(task?.nextRunAt).toBeLessThan(Date.now() + 15 * 60_000 + 2000);
    for (const s of skus)
      await runInDurableObject(sku(s), (actor: InventorySKU) =>
        actor.run("UPDATE reservations SET expires_at = ? WHERE id = ?", [
          new Date(Date.now() - 1).toISOString(),
          id,
        ]),
      );
    expect(await runTask(id, "reservation-expiry")).toBe(true);
    const view = (await order(id).get()).order;
    expect(view.status).toBe("CANCELLED");
    expect(view.statusLog.at(-1)).toMatchObject({
      fromStatus: "RESERVED",
      toStatus: "CANCELLED",
      reason: "reservation expired before payment",
    });
    for (const s of skus) expect(await sku(s).status()).toMatchObject({ available: 6, reserved: 0 });
  });

  it("a paid order drops the expiry task", async () => {
    const id = fresh("paid");
    const skus = await stock(id, [2]);
    expect((await checkout(id, skus)).status).toBe(201);
    await order(id).markPaid({ paymentId: "pi", provider: "stripe", amount: 10 });
    expect(await scheduleKeys(id)).toEqual([]);
  });
});

describe("an unexpected failure inside checkout", () => {
  it("is logged with a trace id; neither the answer nor the status log carries its text", async () => {
    const id = fresh("leak");
    const skus = await stock(id, [3, 3]);
    const busy = runInDurableObject(sku(skus[1]), async (_a, state) => {
      setTimeout(() => state.abort("internal secret: disk /dev/sda9 failed"), 150);
      await state.blockConcurrencyWhile(() => sleep(600));
    }).catch(() => undefined);
    const res = await checkout(id, skus);
    await busy;
    const text = await res.text();
    expect(res.status).toBe(409);
    expect(text).not.toMatch(/secret|sda9/);
    expect(JSON.parse(text).error.details.failures).toMatchObject([
      { sku: skus[1], code: "UNAVAILABLE", message: expect.stringMatching(/trace [0-9a-f-]{36}/) },
    ]);
    const view = (await order(id).get()).order;
    expect(JSON.stringify(view.statusLog)).not.toMatch(/secret|sda9/);
    expect(view.status).toBe("CANCELLED");
  });
});
