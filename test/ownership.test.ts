// The SKU and the order can never disagree: an order's reservation is confirmed or released only
// by that order (its key) or an admin (recorded); holds are bounded.
import { env, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { InventorySKU } from "../actors/index";
import { maxTtlMinutes } from "../actors/inventory-sku/inputs";
import { ActorError, type ErrorBody } from "../src/index";
import { ADMIN_TOKEN, secured, userToken } from "./auth-helpers";

let seq = 0;
const fresh = (prefix: string) => `${prefix}-${Date.now()}-${seq++}`;
const sku = (name: string) => env.INVENTORY_SKU.getByName(name);
const order = (id: string) => env.ORDER.getByName(id);
const call = secured();

async function refusal(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return ActorError.from(err)?.code ?? `untyped: ${String(err)}`;
  }
}

async function reservedOrder(prefix: string) {
  const name = fresh(`${prefix}-sku`);
  await sku(name).restock({ quantity: 10 });
  const orderId = fresh(`${prefix}-order`);
  const token = await userToken("kim");
  const res = await call("POST", "/checkout", {
    token,
    body: { orderId, items: [{ sku: name, quantity: 4, unitPrice: 250 }] },
  });
  expect(res.status).toBe(201);
  return { name, orderId, token };
}

describe("reservation ownership", () => {
  it("a customer cannot reach release/confirm at all; a call without the order's key is refused and writes nothing", async () => {
    const { name, orderId, token } = await reservedOrder("bypass");
    for (const path of ["release", "confirm"]) {
      const res = await call("POST", `/inventory/${name}/${path}`, { token, body: { orderId } });
      expect(res.status).toBe(403);
    }
    const before = await sku(name).status();
    // Over RPC without the key (say, from a socket method or other code): refused.
    expect(await refusal(sku(name).release({ orderId }))).toBe("RESERVATION_OWNED");
    expect(await refusal(sku(name).confirm({ orderId }))).toBe("RESERVATION_OWNED");
    expect(await refusal(sku(name).confirm({ orderId, key: "0123456789abcdef-guess" }))).toBe(
      "RESERVATION_OWNED",
    );
    expect(await sku(name).status()).toEqual(before);
    expect(before).toMatchObject({ available: 6, reserved: 4, sold: 0 });
    // The order, which holds the key, still pays and confirms normally.
    const paid = await call("POST", `/orders/${orderId}/pay`, {
      token: ADMIN_TOKEN,
      body: { paymentId: "pi_ok", provider: "stripe", amount: 1000 },
    });
    expect(paid.status).toBe(200);
    expect(await sku(name).status()).toMatchObject({ available: 6, reserved: 0, sold: 4 });
    const view = (await order(orderId).get()).order;
    expect(view.lines.map((l) => l.reservationStatus)).toEqual(["CONFIRMED"]);
  });

  it("an admin may release an order's reservation, recorded as such; the order then cancels cleanly", async () => {
    const { name, orderId, token } = await reservedOrder("admin-release");
    const res = await call("POST", `/inventory/${name}/release`, {
      token: ADMIN_TOKEN,
      body: { orderId, reason: "stuck cart" },
    });
    expect(res.status).toBe(200);
    const [entry] = (await sku(name).auditLog({ operation: "RELEASE" })).history;
    expect(entry).toMatchObject({ referenceId: orderId, reason: "by admin: stuck cart" });
    const cancelled = await call("POST", `/orders/${orderId}/cancel`, { token, body: {} });
    expect(cancelled.status).toBe(200);
    expect(await sku(name).status()).toMatchObject({ available: 10, reserved: 0, sold: 0 });
  });

  it("a cancel refused because one SKU was confirmed records the lines it did release, so the order matches the SKUs", async () => {
    const [a, b] = [fresh("partial-a"), fresh("partial-b")];
    await Promise.all([sku(a).restock({ quantity: 10 }), sku(b).restock({ quantity: 10 })]);
    const orderId = fresh("partial-order");
    const token = await userToken("kim");
    const items = [a, b].map((s) => ({ sku: s, quantity: 4, unitPrice: 250 }));
    expect((await call("POST", "/checkout", { token, body: { orderId, items } })).status).toBe(201);
    const res = await call("POST", `/inventory/${a}/confirm`, { token: ADMIN_TOKEN, body: { orderId } });
    expect(res.status).toBe(200);
    const cancel = await call("POST", `/orders/${orderId}/cancel`, { token, body: {} });
    expect(cancel.status).toBe(409);
    expect(((await cancel.json()) as ErrorBody).error).toMatchObject({ code: "RESERVATION_CONFIRMED" });
    // B's stock went back to the shelf: the order says so instead of still claiming to hold it.
    expect(await sku(b).status()).toMatchObject({ available: 10, reserved: 0, sold: 0 });
    const view = (await order(orderId).get()).order;
    expect(view.status).toBe("RESERVED");
    expect(view.lines.map((l) => [l.sku, l.reservationStatus])).toEqual([
      [a, "RESERVED"],
      [b, "RELEASED"],
    ]);
    // Paid now: A is sold once, B is reported for a refund (never silently counted as sold).
    const paid = await call("POST", `/orders/${orderId}/pay`, {
      token: ADMIN_TOKEN,
      body: { paymentId: "pi_p", provider: "stripe", amount: 2000 },
    });
    expect(paid.status).toBe(200);
    const { order: after, unconfirmed } = (await paid.json()) as {
      order: { lines: { reservationStatus: string }[] };
      unconfirmed: { sku: string; code: string }[];
    };
    expect(unconfirmed).toMatchObject([{ sku: b, code: "INVALID_STATUS_RELEASED" }]);
    expect(after.lines.map((l) => l.reservationStatus)).toEqual(["CONFIRMED", "FAILED"]);
    expect(await sku(a).status()).toMatchObject({ available: 6, reserved: 0, sold: 4 });
    expect(await sku(b).status()).toMatchObject({ available: 10, reserved: 0, sold: 0 });
  });

  it("after an admin confirms at the SKU, cancelling the order answers 409 RESERVATION_CONFIRMED (not 503 forever)", async () => {
    const { name, orderId, token } = await reservedOrder("admin-confirm");
    const res = await call("POST", `/inventory/${name}/confirm`, { token: ADMIN_TOKEN, body: { orderId } });
    expect(res.status).toBe(200);
    const [entry] = (await sku(name).auditLog({ operation: "CONFIRM" })).history;
    expect(entry.reason).toBe("by admin");
    const cancel = await call("POST", `/orders/${orderId}/cancel`, { token, body: {} });
    expect(cancel.status).toBe(409);
    expect(((await cancel.json()) as ErrorBody).error).toMatchObject({
      code: "RESERVATION_CONFIRMED",
      details: { skus: [name] },
    });
    expect((await order(orderId).get()).order.status).toBe("RESERVED");
    // Paying it now is consistent with the SKU: the stock was sold once.
    const paid = await call("POST", `/orders/${orderId}/pay`, {
      token: ADMIN_TOKEN,
      body: { paymentId: "pi_c", provider: "stripe", amount: 1000 },
    });
    expect(paid.status).toBe(200);
    expect(await sku(name).status()).toMatchObject({ reserved: 0, sold: 4 });
  });

  it("ttlMinutes is bounded: 60 by default, configurable with INVENTORY_MAX_TTL_MINUTES", async () => {
    const name = fresh("ttl-sku");
    await sku(name).restock({ quantity: 10 });
    // The 7-day hold with a made-up order id.
    const week = await call("POST", `/inventory/${name}/reserve`, {
      token: ADMIN_TOKEN,
      body: { orderId: "made-up", quantity: 10, ttlMinutes: 10080 },
    });
    expect(week.status).toBe(400);
    expect(((await week.json()) as ErrorBody).error.message).toMatch(/at most 60/);
    expect(await refusal(sku(name).reserve({ orderId: "made-up", quantity: 10, ttlMinutes: 61 }))).toBe(
      "VALIDATION_FAILED",
    );
    expect(await sku(name).status()).toMatchObject({ available: 10, reserved: 0 });
    const hour = await sku(name).reserve({ orderId: "an-hour", quantity: 1, ttlMinutes: 60 });
    expect(Date.parse(hour.expiresAt) - Date.now()).toBeGreaterThan(59 * 60_000);
    // A deployment that allows two hours (the coordinator and the actor read the same variable).
    const longer = secured({ ADMIN_TOKEN, INVENTORY_MAX_TTL_MINUTES: "120" } as never);
    const tooLong = await longer("POST", `/inventory/${name}/reserve`, {
      token: ADMIN_TOKEN,
      body: { orderId: "three-hours", quantity: 1, ttlMinutes: 180 },
    });
    expect(tooLong.status).toBe(400);
    expect(((await tooLong.json()) as ErrorBody).error.message).toMatch(/at most 120/);
    expect(maxTtlMinutes({ INVENTORY_MAX_TTL_MINUTES: "120" })).toBe(120);
    for (const bad of [undefined, "", "abc", "0", "1.5", "999999"])
      expect(maxTtlMinutes({ INVENTORY_MAX_TTL_MINUTES: bad })).toBe(60);
  });

  it("the public SKU status names no order; the audit log (order ids) is admin only", async () => {
    const { name } = await reservedOrder("enum");
    const status = await (exports.default.fetch(`http://c/inventory/${name}/status`) as Promise<Response>);
    expect(status.status).toBe(200);
    expect(JSON.stringify(await status.json())).not.toMatch(/enum-order/);
    expect((await call("GET", `/inventory/${name}/history`, { token: await userToken("kim") })).status).toBe(
      403,
    );
    expect((await call("GET", `/inventory/${name}/history`)).status).toBe(401);
  });

  it("a reservation made without a key (an admin's own) is confirmed or released as before", async () => {
    const name = fresh("nokey-sku");
    await sku(name).restock({ quantity: 3 });
    await sku(name).reserve({ orderId: "walk-in", quantity: 1 });
    expect((await sku(name).release({ orderId: "walk-in" })).status).toBe("RELEASED");
    const rows = await runInDurableObject(sku(name), (a: InventorySKU) =>
      a.query<{ owner_key: string | null }>("SELECT owner_key FROM reservations"),
    );
    expect(rows).toEqual([{ owner_key: null }]);
  });
});
