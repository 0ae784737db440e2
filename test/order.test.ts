import { env, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { InventorySKU, Order } from "../actors/index";
import type { OrderView } from "../actors/order/order";
import type { ErrorBody } from "../src/index";

let seq = 0;
const fresh = (prefix: string) => `${prefix}-${Date.now()}-${seq++}`;
const sku = (name: string) => env.INVENTORY_SKU.getByName(name);
const order = (id: string) => env.ORDER.getByName(id);

const call = (path: string, init?: RequestInit) => exports.default.fetch(`http://coordinator${path}`, init);
const post = (path: string, body: unknown) =>
  call(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

/** SKUs named after the test, each stocked with the given quantity. */
async function stock(prefix: string, quantities: number[]): Promise<string[]> {
  const names = quantities.map((_, i) => `${prefix}-sku${i}`);
  await Promise.all(
    names.map((name, i) => sku(name).restock({ quantity: quantities[i], productName: `Product ${i}` })),
  );
  return names;
}

async function figures(names: string[]) {
  return Promise.all(
    names.map(async (name) => {
      const s = await sku(name).status();
      return { available: s.available, reserved: s.reserved, sold: s.sold };
    }),
  );
}

async function logOps(name: string) {
  return runInDurableObject(sku(name), (actor: InventorySKU) =>
    actor
      .query<{ operation: string }>(
        "SELECT operation FROM inventory_log WHERE operation != 'RESTOCK' ORDER BY id",
      )
      .map((r) => r.operation),
  );
}

const body = (orderId: string, skus: string[], quantity = 2) => ({
  orderId,
  customerId: "cust-1",
  items: skus.map((s, i) => ({ sku: s, quantity, unitPrice: 1000 + i })),
  shippingAddress: { line1: "1 Main St", city: "Lisbon", country: "PT" },
});

describe("checkout", () => {
  it("reserves every SKU and creates the order", async () => {
    const id = fresh("ok");
    const skus = await stock(id, [10, 10, 10]);
    const res = await post("/checkout", body(id, skus));
    expect(res.status).toBe(201);
    const { order: view, replayed } = (await res.json()) as { order: OrderView; replayed: boolean };
    expect(replayed).toBe(false);
    expect(view).toMatchObject({
      id,
      customerId: "cust-1",
      status: "RESERVED",
      subtotal: 2 * (1000 + 1001 + 1002),
      total: 2 * (1000 + 1001 + 1002),
      shippingAddress: { line1: "1 Main St", city: "Lisbon", country: "PT" },
    });
    expect(
      view.lines.map((l) => [l.sku, l.productName, l.quantity, l.lineTotal, l.reservationStatus]),
    ).toEqual([
      [skus[0], "Product 0", 2, 2000, "RESERVED"],
      [skus[1], "Product 1", 2, 2002, "RESERVED"],
      [skus[2], "Product 2", 2, 2004, "RESERVED"],
    ]);
    expect(view.lines.every((l) => l.reservationId === id)).toBe(true);
    expect(view.statusLog.map((e) => [e.fromStatus, e.toStatus])).toEqual([
      [null, "PENDING"],
      ["PENDING", "RESERVED"],
    ]);
    expect(await figures(skus)).toEqual(skus.map(() => ({ available: 8, reserved: 2, sold: 0 })));
    const got = await call(`/orders/${id}`);
    expect(got.status).toBe(200);
    expect(((await got.json()) as { order: OrderView }).order).toEqual(view);
  });

  it("reserves the SKUs in parallel: a slow SKU does not hold up the others", async () => {
    const id = fresh("parallel");
    const skus = await stock(id, [5, 5, 5, 5, 5]);
    // The first SKU of the cart is busy for 600 ms.
    const busy = runInDurableObject(sku(skus[0]), (_actor, state) =>
      state.blockConcurrencyWhile(() => new Promise((resolve) => setTimeout(resolve, 600))),
    );
    const checkout = post("/checkout", body(id, skus, 1));
    await new Promise((resolve) => setTimeout(resolve, 250));
    // Sequential reserving would still be waiting on the first SKU; in parallel the others are held.
    expect(await figures(skus.slice(1))).toEqual(
      skus.slice(1).map(() => ({ available: 4, reserved: 1, sold: 0 })),
    );
    expect((await checkout).status).toBe(201);
    await busy;
    expect(await figures(skus)).toEqual(skus.map(() => ({ available: 4, reserved: 1, sold: 0 })));
  });

  it("is idempotent per order id, and refuses other contents under the same id", async () => {
    const id = fresh("idem");
    const skus = await stock(id, [5, 5]);
    const first = await post("/checkout", body(id, skus));
    expect(first.status).toBe(201);
    const again = await post("/checkout", body(id, skus));
    expect(again.status).toBe(200);
    expect(((await again.json()) as { replayed: boolean }).replayed).toBe(true);
    const other = await post("/checkout", body(id, skus, 3));
    expect(other.status).toBe(409);
    expect(((await other.json()) as ErrorBody).error.code).toBe("ORDER_EXISTS");
    expect(await figures(skus)).toEqual(skus.map(() => ({ available: 3, reserved: 2, sold: 0 })));
    for (const s of skus) expect(await logOps(s)).toEqual(["RESERVE"]);
  });

  it("a replay with another address is other contents, not the old order answered again", async () => {
    const id = fresh("idem-addr");
    const skus = await stock(id, [5]);
    expect((await post("/checkout", body(id, skus))).status).toBe(201);
    // The same address with its fields in another order is the same request.
    const { line1, city, country } = body(id, skus).shippingAddress;
    const same = await post("/checkout", { ...body(id, skus), shippingAddress: { country, city, line1 } });
    expect(same.status).toBe(200);
    for (const changed of [
      { ...body(id, skus), shippingAddress: { line1: "9 Other St", city: "Porto", country: "PT" } },
      { ...body(id, skus), shippingAddress: undefined },
      { ...body(id, skus), billingAddress: { line1: "2 Bill St", city: "Lisbon", country: "PT" } },
    ]) {
      const res = await post("/checkout", changed);
      expect(res.status).toBe(409);
      expect(((await res.json()) as ErrorBody).error.code).toBe("ORDER_EXISTS");
    }
    const { order: view } = await order(id).get();
    expect(view.shippingAddress).toEqual({ line1: "1 Main St", city: "Lisbon", country: "PT" });
    expect(view.billingAddress).toBeNull();
    expect(await figures(skus)).toEqual([{ available: 3, reserved: 2, sold: 0 }]);
  });

  it("concurrent duplicates of one checkout reserve once", async () => {
    const id = fresh("dup");
    const skus = await stock(id, [50, 50, 50]);
    const answers = await Promise.all(Array.from({ length: 10 }, () => post("/checkout", body(id, skus))));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    expect(await figures(skus)).toEqual(skus.map(() => ({ available: 48, reserved: 2, sold: 0 })));
    for (const s of skus) expect(await logOps(s)).toEqual(["RESERVE"]);
  });

  it("5 SKUs where one lacks stock: 409 with the reasons, and nothing stays reserved", async () => {
    const id = fresh("short");
    const skus = await stock(id, [10, 10, 1, 10, 10]);
    const res = await post("/checkout", body(id, skus));
    expect(res.status).toBe(409);
    const err = (await res.json()) as ErrorBody;
    expect(err.error.code).toBe("CHECKOUT_FAILED");
    expect(err.error.details).toMatchObject({
      orderId: id,
      failures: [{ sku: skus[2], code: "INSUFFICIENT_STOCK", details: { available: 1, requested: 2 } }],
    });
    expect(await figures(skus)).toEqual([
      { available: 10, reserved: 0, sold: 0 },
      { available: 10, reserved: 0, sold: 0 },
      { available: 1, reserved: 0, sold: 0 },
      { available: 10, reserved: 0, sold: 0 },
      { available: 10, reserved: 0, sold: 0 },
    ]);
    // Each SKU that had reserved gave it back (compensation); the short one never reserved.
    for (const s of [skus[0], skus[1], skus[3], skus[4]])
      expect(await logOps(s)).toEqual(["RESERVE", "RELEASE"]);
    expect(await logOps(skus[2])).toEqual([]);
    const view = (await order(id).get()).order;
    expect(view.status).toBe("CANCELLED");
    expect(view.lines.map((l) => l.reservationStatus)).toEqual([
      "RELEASED",
      "RELEASED",
      "FAILED",
      "RELEASED",
      "RELEASED",
    ]);
    // Repeating the checkout answers the same failure and reserves nothing.
    const again = await post("/checkout", body(id, skus));
    expect(again.status).toBe(409);
    expect(((await again.json()) as ErrorBody).error).toMatchObject({ code: "CHECKOUT_FAILED" });
    for (const s of [skus[0], skus[1], skus[3], skus[4]])
      expect(await logOps(s)).toEqual(["RESERVE", "RELEASE"]);
  });

  it("an unknown SKU fails the checkout the same way", async () => {
    const id = fresh("unknown");
    const [known] = await stock(id, [3]);
    const res = await post("/checkout", body(id, [known, `${id}-never-stocked`], 1));
    expect(res.status).toBe(409);
    expect(((await res.json()) as ErrorBody).error.details).toMatchObject({
      failures: [{ sku: `${id}-never-stocked`, code: "SKU_NOT_FOUND" }],
    });
    expect(await figures([known])).toEqual([{ available: 3, reserved: 0, sold: 0 }]);
  });

  it("a checkout interrupted after some reservations resumes without reserving twice", async () => {
    const id = fresh("resume");
    const skus = await stock(id, [4, 4, 4]);
    const request = body(id, skus, 1);
    // The state a crash leaves: the order written as PENDING, one SKU already reserved.
    await runInDurableObject(order(id), (actor: Order) => {
      const at = new Date().toISOString();
      actor.run(
        "INSERT INTO order_header (id, customer_id, status, subtotal, total, shipping_address, created_at, updated_at) VALUES (?, 'cust-1', 'PENDING', 3003, 3003, ?, ?, ?)",
        [id, JSON.stringify(request.shippingAddress), at, at],
      );
      request.items.forEach((item) => {
        actor.run(
          "INSERT INTO order_lines (order_id, sku, product_name, quantity, unit_price, line_total) VALUES (?, ?, ?, 1, ?, ?)",
          [id, item.sku, item.sku, item.unitPrice, item.unitPrice],
        );
      });
    });
    await sku(skus[0]).reserve({ orderId: id, quantity: 1 });
    const res = await post("/checkout", request);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { order: OrderView }).order.status).toBe("RESERVED");
    expect(await figures(skus)).toEqual(skus.map(() => ({ available: 3, reserved: 1, sold: 0 })));
    for (const s of skus) expect(await logOps(s)).toEqual(["RESERVE"]);
  });

  it("bad checkout inputs answer 400 and write nothing", async () => {
    const id = fresh("bad");
    const skus = await stock(id, [10]);
    const good = body(id, skus, 1);
    const bad: unknown[] = [
      { ...good, items: [] },
      { ...good, items: [{ sku: skus[0], quantity: 0, unitPrice: 1 }] },
      { ...good, items: [{ sku: skus[0], quantity: -1, unitPrice: 1 }] },
      { ...good, items: [{ sku: skus[0], quantity: 1.5, unitPrice: 1 }] },
      { ...good, items: [{ sku: skus[0], quantity: 1e12, unitPrice: 1 }] },
      { ...good, items: [{ sku: skus[0], quantity: "1", unitPrice: 1 }] },
      { ...good, items: [{ sku: skus[0], quantity: 1, unitPrice: -5 }] },
      { ...good, items: [{ sku: skus[0], quantity: 1 }] },
      { ...good, items: [{ sku: "bad sku", quantity: 1, unitPrice: 1 }] },
      {
        ...good,
        items: [
          { sku: skus[0], quantity: 1, unitPrice: 1 },
          { sku: skus[0], quantity: 2, unitPrice: 1 },
        ],
      },
      { ...good, customerId: "" },
      { ...good, orderId: undefined },
      { ...good, orderId: "has space" },
      { ...good, shippingAddress: "1 Main St" },
      { ...good, shippingAddress: { line1: "x".repeat(600) } },
      { customerId: "c", orderId: id },
      "not json",
    ];
    for (const b of bad) {
      const res = await post("/checkout", b);
      expect(res.status, JSON.stringify(b).slice(0, 120)).toBe(400);
    }
    expect((await call(`/orders/${id}`)).status).toBe(404);
    expect(await figures(skus)).toEqual([{ available: 10, reserved: 0, sold: 0 }]);
    // Called straight over RPC with another order's id, the actor refuses too.
    const wrong = await order(`${id}-other`)
      .checkout(good)
      .catch((e: Error) => e.message);
    expect(wrong).toContain("VALIDATION_FAILED");
  });
});

describe("order life cycle", () => {
  async function reserved(prefix: string, quantities = [5, 5]) {
    const id = fresh(prefix);
    const skus = await stock(id, quantities);
    const res = await post("/checkout", body(id, skus, 1));
    expect(res.status).toBe(201);
    const view = ((await res.json()) as { order: OrderView }).order;
    return { id, skus, total: view.total };
  }

  it("markPaid records the payment, confirms every reservation, and is idempotent", async () => {
    const { id, skus, total } = await reserved("pay");
    // A wrong amount is recorded under its own payment id (as REFUND_DUE): see order-refund-due.test.ts.
    const wrongAmount = await post(`/orders/${id}/pay`, {
      paymentId: "pi_0",
      provider: "stripe",
      amount: total - 1,
    });
    expect(wrongAmount.status).toBe(409);
    expect(((await wrongAmount.json()) as ErrorBody).error.code).toBe("PAYMENT_AMOUNT_MISMATCH");
    const paid = await post(`/orders/${id}/pay`, { paymentId: "pi_1", provider: "stripe", amount: total });
    expect(paid.status).toBe(200);
    const { order: view, unconfirmed } = (await paid.json()) as { order: OrderView; unconfirmed: unknown[] };
    expect(unconfirmed).toEqual([]);
    expect(view.status).toBe("PAID");
    expect(view.lines.map((l) => l.reservationStatus)).toEqual(["CONFIRMED", "CONFIRMED"]);
    expect(view.payments.map((p) => [p.id, p.amount, p.status]).sort()).toEqual([
      ["pi_0", total - 1, "REFUND_DUE"],
      ["pi_1", total, "SUCCEEDED"],
    ]);
    expect(await figures(skus)).toEqual(skus.map(() => ({ available: 4, reserved: 0, sold: 1 })));
    // The same payment again changes nothing; another payment is recorded as owed back (refund due).
    const again = await post(`/orders/${id}/pay`, { paymentId: "pi_1", provider: "stripe", amount: total });
    expect(again.status).toBe(200);
    const second = await post(`/orders/${id}/pay`, { paymentId: "pi_2", provider: "stripe", amount: total });
    expect(second.status).toBe(409);
    expect(((await second.json()) as ErrorBody).error.code).toBe("PAYMENT_REFUND_DUE");
    for (const s of skus) expect(await logOps(s)).toEqual(["RESERVE", "CONFIRM"]);
    expect((await order(id).get()).order.payments.filter((p) => p.status === "SUCCEEDED")).toHaveLength(1);
  });

  it("the same payment id with another provider id is PAYMENT_EXISTS, not the first payment again", async () => {
    const { id, total } = await reserved("pay-pid");
    const first = { paymentId: "pi_1", provider: "stripe", providerId: "ch_A", amount: total };
    expect((await post(`/orders/${id}/pay`, first)).status).toBe(200);
    expect((await post(`/orders/${id}/pay`, first)).status).toBe(200);
    for (const other of [
      { ...first, providerId: "ch_B" },
      { ...first, providerId: undefined },
    ]) {
      const res = await post(`/orders/${id}/pay`, other);
      expect(res.status).toBe(409);
      expect(((await res.json()) as ErrorBody).error.code).toBe("PAYMENT_EXISTS");
    }
    expect((await order(id).get()).order.payments).toMatchObject([{ id: "pi_1", providerId: "ch_A" }]);
  });

  it("a reservation that expired before payment is reported, not silently sold", async () => {
    const { id, skus, total } = await reserved("late-pay");
    await runInDurableObject(sku(skus[1]), (actor: InventorySKU) =>
      actor.run("UPDATE reservations SET expires_at = ? WHERE id = ?", [
        new Date(Date.now() - 1000).toISOString(),
        id,
      ]),
    );
    const { order: view, unconfirmed } = await order(id).markPaid({
      paymentId: "pi_late",
      provider: "stripe",
      amount: total,
    });
    expect(view.status).toBe("PAID");
    expect(unconfirmed).toMatchObject([{ sku: skus[1], code: "INVALID_STATUS_EXPIRED" }]);
    expect(view.lines.map((l) => l.reservationStatus)).toEqual(["CONFIRMED", "FAILED"]);
    expect(view.statusLog.at(-1)).toMatchObject({ fromStatus: "PAID", toStatus: "PAID" });
    expect(await figures(skus)).toEqual([
      { available: 4, reserved: 0, sold: 1 },
      { available: 5, reserved: 0, sold: 0 },
    ]);
  });

  it("follows the state machine: legal steps are logged, illegal ones are 409", async () => {
    const { id, total } = await reserved("states");
    const to = (status: string) => post(`/orders/${id}/status`, { status, actor: "ops-1" });
    expect((await to("SHIPPED")).status).toBe(409);
    expect((await to("PAID")).status).toBe(409); // only through markPaid
    await order(id).markPaid({ paymentId: "pi_s", provider: "paypal", amount: total });
    for (const status of ["PROCESSING", "SHIPPED", "DELIVERED"]) expect((await to(status)).status).toBe(200);
    const back = await to("SHIPPED");
    expect(back.status).toBe(409);
    expect(((await back.json()) as ErrorBody).error).toMatchObject({
      code: "INVALID_TRANSITION",
      details: { from: "DELIVERED", to: "SHIPPED" },
    });
    expect((await to("DELIVERED")).status).toBe(200); // the current status again: no-op
    const refunded = await to("REFUNDED");
    expect(refunded.status).toBe(200);
    const view = ((await refunded.json()) as { order: OrderView }).order;
    expect(view.payments.map((p) => p.status)).toEqual(["REFUNDED"]);
    expect(view.statusLog.map((e) => `${e.fromStatus}>${e.toStatus}`)).toEqual([
      "null>PENDING",
      "PENDING>RESERVED",
      "RESERVED>PAID",
      "PAID>PROCESSING",
      "PROCESSING>SHIPPED",
      "SHIPPED>DELIVERED",
      "DELIVERED>REFUNDED",
    ]);
    expect(view.statusLog.at(-1)?.actor).toBe("ops-1");
    expect((await to("CANCELLED")).status).toBe(409);
    expect((await post(`/orders/${id}/status`, { status: "LOST" })).status).toBe(400);
    expect((await post(`/orders/${id}/status`, {})).status).toBe(400);
  });

  it("cancelling a reserved order releases its stock", async () => {
    const { id, skus } = await reserved("cancel");
    const res = await post(`/orders/${id}/status`, { status: "CANCELLED", reason: "customer request" });
    expect(res.status).toBe(200);
    const view = ((await res.json()) as { order: OrderView }).order;
    expect(view.status).toBe("CANCELLED");
    expect(view.lines.map((l) => l.reservationStatus)).toEqual(["RELEASED", "RELEASED"]);
    expect(await figures(skus)).toEqual(skus.map(() => ({ available: 5, reserved: 0, sold: 0 })));
    for (const s of skus) expect(await logOps(s)).toEqual(["RESERVE", "RELEASE"]);
    const pay = await post(`/orders/${id}/pay`, {
      paymentId: "pi_c",
      provider: "stripe",
      amount: view.total,
    });
    expect(pay.status).toBe(409);
  });

  it("unknown orders are 404; bad payment inputs are 400", async () => {
    const missing = await call(`/orders/${fresh("missing")}`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as ErrorBody).error.code).toBe("ORDER_NOT_FOUND");
    const { id } = await reserved("badpay");
    for (const b of [
      {},
      { paymentId: "p", provider: "stripe", amount: -1 },
      { paymentId: "p", provider: "", amount: 1 },
    ])
      expect((await post(`/orders/${id}/pay`, b)).status).toBe(400);
    expect((await order(id).get()).order.status).toBe("RESERVED");
  });
});
