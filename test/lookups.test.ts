// A request that finds nothing writes nothing: lookups of unknown orders and SKUs answer 404
// without creating the actor's storage (listDurableObjectIds lists every object that has storage).
import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ErrorBody } from "../src/index";
import { ADMIN_TOKEN, idOf, objectIds, secured } from "./auth-helpers";

let seq = 0;
const fresh = (prefix: string) => `${prefix}-${Date.now()}-${seq++}`;
const open = (path: string, init?: RequestInit) => exports.default.fetch(`http://c${path}`, init);
const admin = secured();

describe("no storage from lookups", () => {
  it("GETs of unknown orders and SKUs answer 404 and create no object", async () => {
    const names = Array.from({ length: 25 }, () => fresh("ghost"));
    const paths = names.flatMap((n) => [
      `/orders/${n}`,
      `/inventory/${n}/status`,
      `/inventory/${n}/history`,
      `/inventory/${n}/state-at?timestamp=1000`,
    ]);
    for (const path of paths) {
      const res = await open(path);
      expect(res.status, path).toBe(404);
      expect(["ORDER_NOT_FOUND", "SKU_NOT_FOUND"]).toContain(((await res.json()) as ErrorBody).error.code);
    }
    const orders = await objectIds(env.ORDER);
    const skus = await objectIds(env.INVENTORY_SKU);
    for (const n of names) {
      expect(orders).not.toContain(idOf(env.ORDER, n));
      expect(skus).not.toContain(idOf(env.INVENTORY_SKU, n));
    }
  });

  it("writes to unknown SKUs or orders (other than restock and checkout) answer 404 and create nothing", async () => {
    const n = fresh("ghost-write");
    const writes: [string, unknown][] = [
      [`/inventory/${n}/reserve`, { orderId: "o1", quantity: 1 }],
      [`/inventory/${n}/reserve-many`, { items: [{ orderId: "o1", quantity: 1 }] }],
      [`/inventory/${n}/confirm`, { orderId: "o1" }],
      [`/inventory/${n}/release`, { orderId: "o1" }],
      [`/orders/${n}/pay`, { paymentId: "p", provider: "x", amount: 1 }],
      [`/orders/${n}/status`, { status: "CANCELLED" }],
      [`/orders/${n}/cancel`, {}],
    ];
    for (const [path, body] of writes) {
      const res = await admin("POST", path, { token: ADMIN_TOKEN, body });
      expect(res.status, path).toBe(404);
    }
    expect(await objectIds(env.INVENTORY_SKU)).not.toContain(idOf(env.INVENTORY_SKU, n));
    expect(await objectIds(env.ORDER)).not.toContain(idOf(env.ORDER, n));
  });

  it("one checkout naming 100 unknown SKUs creates the order (CANCELLED, saying why) and no SKU", async () => {
    const orderId = fresh("ghost-cart");
    const skus = Array.from({ length: 100 }, (_, i) => `${orderId}-sku${i}`);
    const res = await open("/checkout", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        orderId,
        customerId: "c1",
        items: skus.map((sku) => ({ sku, quantity: 1, unitPrice: 1 })),
      }),
    });
    expect(res.status).toBe(409);
    const failures = (((await res.json()) as ErrorBody).error.details as { failures: { code: string }[] })
      .failures;
    expect(failures).toHaveLength(100);
    expect(new Set(failures.map((f) => f.code))).toEqual(new Set(["SKU_NOT_FOUND"]));
    const ids = await objectIds(env.INVENTORY_SKU);
    for (const sku of skus) expect(ids).not.toContain(idOf(env.INVENTORY_SKU, sku));
    expect((await env.ORDER.getByName(orderId).get()).order.status).toBe("CANCELLED");
  });

  it("a stocked SKU and a written order are found (the directory knows them once written)", async () => {
    const n = fresh("found");
    expect((await open(`/inventory/${n}/status`)).status).toBe(404);
    await env.INVENTORY_SKU.getByName(n).restock({ quantity: 2 });
    const res = await open(`/inventory/${n}/status`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ sku: n, available: 2 });
  });
});
