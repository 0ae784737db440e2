import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { InventorySKU, Order } from "../actors/index";
import type { ErrorBody } from "../src/index";
import {
  ADMIN_TOKEN,
  es256,
  idOf,
  objectIds,
  SECRET,
  secured,
  unsignedToken,
  userToken,
} from "./auth-helpers";

let seq = 0;
const fresh = (prefix: string) => `${prefix}-${Date.now()}-${seq++}`;
const call = secured();

async function codeOf(res: Response): Promise<string> {
  return ((await res.clone().json()) as ErrorBody).error?.code;
}

interface Route {
  role: "public" | "user" | "admin";
  /** A customer's own record: another user's token is refused as if it did not exist. */
  owned?: boolean;
  method: string;
  path: string;
  body?: unknown;
}

/** Every route of the coordinator, against one stocked SKU and one order of "alice". */
function routes(sku: string, orderId: string, newOrder: string): Route[] {
  return [
    { role: "public", method: "GET", path: "/health" },
    { role: "public", method: "GET", path: `/inventory/${sku}/status` },
    {
      role: "user",
      method: "POST",
      path: "/checkout",
      body: { orderId: newOrder, items: [{ sku, quantity: 1, unitPrice: 100 }] },
    },
    { role: "user", owned: true, method: "GET", path: `/orders/${orderId}` },
    { role: "user", owned: true, method: "POST", path: `/orders/${orderId}/cancel`, body: {} },
    {
      role: "admin",
      method: "POST",
      path: `/inventory/${sku}/reserve`,
      body: { orderId: "adm-r", quantity: 1 },
    },
    {
      role: "admin",
      method: "POST",
      path: `/inventory/${sku}/reserve-many`,
      body: { items: [{ orderId: "adm-m", quantity: 1 }] },
    },
    { role: "admin", method: "POST", path: `/inventory/${sku}/confirm`, body: { orderId: orderId } },
    { role: "admin", method: "POST", path: `/inventory/${sku}/release`, body: { orderId: "adm-r" } },
    { role: "admin", method: "POST", path: `/inventory/${sku}/restock`, body: { quantity: 5 } },
    { role: "admin", method: "GET", path: `/inventory/${sku}/history` },
    { role: "admin", method: "GET", path: `/inventory/${sku}/state-at?timestamp=${Date.now()}` },
    {
      role: "admin",
      method: "POST",
      path: `/orders/${orderId}/pay`,
      body: { paymentId: "pi_x", provider: "stripe", amount: 200 },
    },
    { role: "admin", method: "POST", path: `/orders/${orderId}/status`, body: { status: "PROCESSING" } },
    { role: "admin", method: "POST", path: `/orders/${orderId}/refunded`, body: { paymentId: "pi_due" } },
  ];
}

/** Everything a refused call could have changed: figures, logs, the order, and which objects exist. */
async function snapshot(sku: string, orderId: string) {
  const skuState = await runInDurableObject(env.INVENTORY_SKU.getByName(sku), (a: InventorySKU) => ({
    status: a.status(),
    log: a.query("SELECT * FROM inventory_log ORDER BY id"),
    reservations: a.query("SELECT * FROM reservations ORDER BY id"),
  }));
  const order = await runInDurableObject(env.ORDER.getByName(orderId), (a: Order) => a.get());
  return {
    skuState,
    order,
    orders: await objectIds(env.ORDER),
    skus: await objectIds(env.INVENTORY_SKU),
  };
}

/**
 * Local workerd counts rate limits in windows aligned to the wall clock (miniflare's
 * RateLimiterObject: epoch = now / period). A test counting to the limit must not straddle two
 * windows, or neither reaches it: start it early in a window.
 */
async function freshWindow(periodMs = 10_000, needMs = 6_000): Promise<void> {
  const left = periodMs - (Date.now() % periodMs);
  if (left < needMs) await new Promise((r) => setTimeout(r, left + 50));
}

describe("who may call what (AUTH_JWT_SECRET and ADMIN_TOKEN set)", () => {
  it("every route refuses what it must, writes nothing on refusal, and serves the right token", async () => {
    const sku = fresh("auth-sku");
    await env.INVENTORY_SKU.getByName(sku).restock({ quantity: 10 });
    const alice = await userToken("alice");
    const orderId = fresh("auth-order");
    const made = await call("POST", "/checkout", {
      token: alice,
      body: { orderId, customerId: "mallory", items: [{ sku, quantity: 2, unitPrice: 100 }] },
    });
    expect(made.status).toBe(201);
    const newOrder = fresh("auth-new");
    const table = routes(sku, orderId, newOrder);
    // A payment of the wrong amount, recorded as refund due, for the route that marks it refunded.
    await env.ORDER.getByName(orderId)
      .markPaid({ paymentId: "pi_due", provider: "stripe", amount: 1 })
      .catch(() => undefined);

    const bad: Record<string, string | undefined> = {
      none: undefined,
      garbage: "not.a.token",
      expired: await userToken("alice", { exp: Math.floor(Date.now() / 1000) - 120 }),
      "alg none": unsignedToken("alice"),
      "wrong key": await userToken("alice", { secret: "another-secret-0123456789abcdef01" }),
    };
    const before = await snapshot(sku, orderId);
    const bob = await userToken("bob");
    for (const route of table) {
      for (const [what, token] of Object.entries(bad)) {
        const res = await call(route.method, route.path, { token, body: route.body });
        const expected = route.role === "public" ? 200 : 401;
        expect(res.status, `${what} on ${route.method} ${route.path}`).toBe(expected);
        if (expected === 401) {
          expect(await codeOf(res)).toBe("UNAUTHORIZED");
          expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
        }
      }
      if (route.role === "admin") {
        const res = await call(route.method, route.path, { token: alice, body: route.body });
        expect(res.status, `user token on ${route.path}`).toBe(403);
        expect(await codeOf(res)).toBe("FORBIDDEN");
      }
      if (route.owned) {
        const res = await call(route.method, route.path, { token: bob, body: route.body });
        expect(res.status, `another user's token on ${route.path}`).toBe(404);
        expect(await codeOf(res)).toBe("ORDER_NOT_FOUND");
      }
    }
    // Nothing was read into existence or written: the same figures, logs, order and objects.
    expect(await snapshot(sku, orderId)).toEqual(before);
    expect(before.orders).not.toContain(idOf(env.ORDER, newOrder));

    // The right tokens.
    const right = (route: Route) =>
      route.role === "admin" ? ADMIN_TOKEN : route.role === "user" ? alice : undefined;
    const answers: Record<string, number> = {};
    for (const route of table) {
      if (route.path.endsWith("/cancel")) continue; // last: it ends the order
      const res = await call(route.method, route.path, { token: right(route), body: route.body });
      answers[`${route.method} ${route.path.split("?")[0]}`] = res.status;
    }
    expect(
      Object.values(answers).every((s) => s === 200 || s === 201),
      JSON.stringify(answers),
    ).toBe(true);
    const view = (await (await call("GET", `/orders/${newOrder}`, { token: alice })).json()) as {
      order: { customerId: string };
    };
    expect(view.order.customerId).toBe("alice");
  });

  it("the customer comes from the token, never from the body; only they (or admin) read or cancel", async () => {
    const sku = fresh("owner-sku");
    await env.INVENTORY_SKU.getByName(sku).restock({ quantity: 10 });
    const carol = await userToken("carol");
    const orderId = fresh("owner-order");
    const res = await call("POST", "/checkout", {
      token: carol,
      body: { orderId, customerId: "dave", items: [{ sku, quantity: 3, unitPrice: 100 }] },
    });
    expect(res.status).toBe(201);
    const order = await env.ORDER.getByName(orderId).get();
    expect(order.order.customerId).toBe("carol");
    expect(order.order.statusLog[0].actor).toBe("carol");
    const dave = await userToken("dave");
    expect((await call("GET", `/orders/${orderId}`, { token: dave })).status).toBe(404);
    expect((await call("POST", `/orders/${orderId}/cancel`, { token: dave, body: {} })).status).toBe(404);
    expect((await call("GET", `/orders/${orderId}`, { token: ADMIN_TOKEN })).status).toBe(200);
    const cancelled = await call("POST", `/orders/${orderId}/cancel`, {
      token: carol,
      body: { reason: "changed my mind" },
    });
    expect(cancelled.status).toBe(200);
    const after = (await env.ORDER.getByName(orderId).get()).order;
    expect(after.status).toBe("CANCELLED");
    expect(after.statusLog.at(-1)).toMatchObject({ actor: "carol", reason: "changed my mind" });
    expect((await env.INVENTORY_SKU.getByName(sku).status()).reserved).toBe(0);
  });

  it("payment is admin only: a customer cannot mark their own order paid, nor write the log's actor", async () => {
    const sku = fresh("pay-sku");
    await env.INVENTORY_SKU.getByName(sku).restock({ quantity: 10 });
    const erin = await userToken("erin");
    const orderId = fresh("pay-order");
    await call("POST", "/checkout", {
      token: erin,
      body: { orderId, items: [{ sku, quantity: 1, unitPrice: 700 }] },
    });
    const pay = { paymentId: "pi_fake", provider: "stripe", amount: 700 };
    expect((await call("POST", `/orders/${orderId}/pay`, { token: erin, body: pay })).status).toBe(403);
    const status = { status: "CANCELLED", actor: "support-bot" };
    expect((await call("POST", `/orders/${orderId}/status`, { token: erin, body: status })).status).toBe(403);
    expect((await env.ORDER.getByName(orderId).get()).order.status).toBe("RESERVED");
    expect((await call("POST", `/orders/${orderId}/pay`, { token: ADMIN_TOKEN, body: pay })).status).toBe(
      200,
    );
    const shipped = await call("POST", `/orders/${orderId}/status`, {
      token: ADMIN_TOKEN,
      body: { status: "PROCESSING", actor: "warehouse-3" },
    });
    expect(shipped.status).toBe(200);
    const log = (await env.ORDER.getByName(orderId).get()).order.statusLog;
    expect(log.at(-1)).toMatchObject({ toStatus: "PROCESSING", actor: "admin:warehouse-3" });
  });

  it("an admin route answers 404 when no ADMIN_TOKEN is set; user routes still need a token", async () => {
    const only = secured({ AUTH_JWT_SECRET: SECRET });
    const sku = fresh("noadmin-sku");
    await env.INVENTORY_SKU.getByName(sku).restock({ quantity: 1 });
    for (const token of [undefined, "anything", await userToken("frank")]) {
      const res = await only("POST", `/inventory/${sku}/restock`, { token, body: { quantity: 1 } });
      expect(res.status).toBe(404);
      expect(await codeOf(res)).toBe("NOT_FOUND");
    }
    expect((await only("GET", `/orders/x-${seq}`)).status).toBe(401);
    expect((await env.INVENTORY_SKU.getByName(sku).status()).restocked).toBe(1);
  });

  it("RS256/ES256 tokens verify against AUTH_JWKS; a HS256 token is then refused unless a secret is set too", async () => {
    const { jwks, sign } = await es256();
    const viaJwks = secured({ AUTH_JWKS: jwks, ADMIN_TOKEN });
    const sku = fresh("jwks-sku");
    await env.INVENTORY_SKU.getByName(sku).restock({ quantity: 5 });
    const orderId = fresh("jwks-order");
    const token = await sign("gina");
    const res = await viaJwks("POST", "/checkout", {
      token,
      body: { orderId, items: [{ sku, quantity: 1, unitPrice: 1 }] },
    });
    expect(res.status).toBe(201);
    expect((await env.ORDER.getByName(orderId).get()).order.customerId).toBe("gina");
    // An HS256 token signed with the public key's JSON as the secret (the classic confusion) is refused.
    const confused = await userToken("gina", { secret: jwks });
    expect((await viaJwks("GET", `/orders/${orderId}`, { token: confused })).status).toBe(401);
    expect((await viaJwks("GET", `/orders/${orderId}`, { token })).status).toBe(200);
    // Another key pair's token is refused.
    const other = await es256();
    expect((await viaJwks("GET", `/orders/${orderId}`, { token: await other.sign("gina") })).status).toBe(
      401,
    );
  });

  it("a token without a subject or without an expiry is refused", async () => {
    const { SignJWT } = await import("jose");
    const key = new TextEncoder().encode(SECRET);
    const noSub = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime("5m")
      .sign(key);
    const noExp = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject("hank").sign(key);
    for (const token of [noSub, noExp, "Bearer", ""]) {
      const res = await call("GET", "/orders/whatever", { token });
      expect(res.status).toBe(401);
    }
  });

  it("checkout is rate limited per customer (Workers rate-limiting binding, emulated locally)", async () => {
    await freshWindow();
    const ivan = await userToken(fresh("ivan"));
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++)
      statuses.push((await call("POST", "/checkout", { token: ivan, body: {} })).status);
    // The limit is 20 per 10 s in test/wrangler.jsonc: the first 20 reach validation (400), then 429.
    expect(statuses.slice(0, 20).every((s) => s === 400)).toBe(true);
    expect(statuses.slice(20)).toEqual([429, 429]);
    const limited = await call("POST", "/checkout", { token: ivan, body: {} });
    expect(await codeOf(limited)).toBe("RATE_LIMITED");
    expect(limited.headers.get("retry-after")).toBe("10");
    // Another customer is not limited by ivan's count.
    const judy = await userToken(fresh("judy"));
    expect((await call("POST", "/checkout", { token: judy, body: {} })).status).toBe(400);
  });

  it("checkout is rate limited per client IP too: many customers from one address share its limit", async () => {
    // A documentation address (2001:db8::/32) of this run only, so reruns within 10 s do not share it.
    const ip = `2001:db8::${(Date.now() % 0xffff).toString(16)}:${seq++}`;
    const from = (address: string) => ({ "cf-connecting-ip": address });
    await freshWindow();
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) {
      const token = await userToken(fresh(`crowd${i}`));
      statuses.push((await call("POST", "/checkout", { token, body: {}, headers: from(ip) })).status);
    }
    expect(statuses.slice(0, 20).every((s) => s === 400)).toBe(true);
    expect(statuses[20]).toBe(429);
    // The same kind of caller from another address is not limited by that count.
    const other = await userToken(fresh("elsewhere"));
    const res = await call("POST", "/checkout", { token: other, body: {}, headers: from(`${ip}:1`) });
    expect(res.status).toBe(400);
  });
});
