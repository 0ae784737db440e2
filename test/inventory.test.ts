import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { InventorySKU } from "../actors/index";
import { ActorError } from "../src/index";

let seq = 0;
const freshName = (prefix: string) => `${prefix}-${Date.now()}-${seq++}`;
const sku = (name: string) => env.INVENTORY_SKU.getByName(name);

async function codeOf(promise: Promise<unknown>): Promise<{ code?: string; details?: unknown }> {
  try {
    await promise;
  } catch (err) {
    const e = ActorError.from(err);
    return e ? { code: e.code, details: e.details } : { code: `untyped: ${String(err)}` };
  }
  return {};
}

/** The test Worker's default export (the coordinator), called in-process. */
const worker = (exports as unknown as { default: { fetch(request: Request): Promise<Response> } }).default;

function post(path: string, body: unknown): Promise<Response> {
  return worker.fetch(
    new Request(`http://coordinator${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  );
}

function get(path: string): Promise<Response> {
  return worker.fetch(new Request(`http://coordinator${path}`));
}

/** Everything that must hold at every moment, read straight from the tables. */
async function invariant(stub: DurableObjectStub<InventorySKU>) {
  return runInDurableObject(stub, (actor: InventorySKU) => {
    const [inv] = actor.query<{ available: number; reserved: number; sold: number; restocked: number }>(
      "SELECT available, reserved, sold, restocked FROM inventory",
    );
    const [sums] = actor.query<{ pending: number; confirmed: number }>(
      `SELECT coalesce(sum(quantity) FILTER (WHERE status = 'PENDING'), 0) AS pending,
        coalesce(sum(quantity) FILTER (WHERE status = 'CONFIRMED'), 0) AS confirmed FROM reservations`,
    );
    const [restocked] = actor.query<{ total: number }>(
      "SELECT coalesce(sum(quantity), 0) AS total FROM inventory_log WHERE operation = 'RESTOCK'",
    );
    // Replaying the log's deltas from zero must land on the current figures, row by row.
    const log = actor.query<Record<string, number>>(
      "SELECT available_before, available_after, reserved_before, reserved_after, sold_before, sold_after FROM inventory_log ORDER BY id",
    );
    let chained = true;
    let prev = { a: 0, r: 0, s: 0 };
    for (const row of log) {
      if (row.available_before !== prev.a || row.reserved_before !== prev.r || row.sold_before !== prev.s)
        chained = false;
      prev = { a: row.available_after, r: row.reserved_after, s: row.sold_after };
    }
    return {
      conserved:
        inv.available + inv.reserved + inv.sold === restocked.total && inv.restocked === restocked.total,
      nonNegative: inv.available >= 0 && inv.reserved >= 0 && inv.sold >= 0,
      reservedMatches: inv.reserved === sums.pending,
      soldMatches: inv.sold === sums.confirmed,
      logChained: chained && prev.a === inv.available && prev.r === inv.reserved && prev.s === inv.sold,
    };
  });
}

const allTrue = {
  conserved: true,
  nonNegative: true,
  reservedMatches: true,
  soldMatches: true,
  logChained: true,
};

async function logRows(stub: DurableObjectStub<InventorySKU>, operation?: string) {
  return runInDurableObject(stub, (actor: InventorySKU) =>
    actor.query<{ operation: string; reference_id: string; quantity: number }>(
      `SELECT operation, reference_id, quantity FROM inventory_log ${operation ? "WHERE operation = ?" : ""} ORDER BY id`,
      operation ? [operation] : [],
    ),
  );
}

describe("InventorySKU flows", () => {
  it("restock creates the SKU and logs RESTOCK", async () => {
    const name = freshName("restock");
    const stub = sku(name);
    expect(await codeOf(stub.status())).toMatchObject({ code: "SKU_NOT_FOUND" });
    const status = await stub.restock({ quantity: 10, reference: "po-1", productName: "Widget" });
    expect(status).toMatchObject({
      sku: name,
      productName: "Widget",
      available: 10,
      reserved: 0,
      sold: 0,
      restocked: 10,
      pendingReservations: 0,
    });
    const again = await stub.restock({ quantity: 5 });
    expect(again).toMatchObject({ productName: "Widget", available: 15, restocked: 15 });
    const { history } = await stub.auditLog({});
    expect(
      history.map((h) => [h.operation, h.quantity, h.referenceId, h.availableBefore, h.availableAfter]),
    ).toEqual([
      ["RESTOCK", 5, null, 10, 15],
      ["RESTOCK", 10, "po-1", 0, 10],
    ]);
    expect(await invariant(stub)).toEqual(allTrue);
  });

  it("reserve, confirm and release move the figures and log exact before/after values", async () => {
    const stub = sku(freshName("flow"));
    await stub.restock({ quantity: 10 });
    const a = await stub.reserve({ orderId: "order-a", quantity: 3 });
    expect(a).toMatchObject({ success: true, reservationId: "order-a", quantity: 3, status: "PENDING" });
    expect(Date.parse(a.expiresAt) - Date.now()).toBeGreaterThan(14 * 60_000);
    expect(Date.parse(a.expiresAt) - Date.now()).toBeLessThanOrEqual(15 * 60_000);
    await stub.reserve({ orderId: "order-b", quantity: 2, ttlMinutes: 60 });
    expect(await stub.status()).toMatchObject({ available: 5, reserved: 5, sold: 0, pendingReservations: 2 });

    expect(await stub.confirm({ orderId: "order-a" })).toEqual({
      success: true,
      reservationId: "order-a",
      quantity: 3,
      status: "CONFIRMED",
    });
    expect(await stub.release({ orderId: "order-b", reason: "customer changed mind" })).toEqual({
      success: true,
      reservationId: "order-b",
      quantityReleased: 2,
      status: "RELEASED",
    });
    expect(await stub.status()).toMatchObject({ available: 7, reserved: 0, sold: 3, pendingReservations: 0 });

    const { history } = await stub.auditLog({ limit: 10 });
    const confirm = history.find((h) => h.operation === "CONFIRM")!;
    // The use case's sample logs reserved-minus-quantity as available on confirm; available is unchanged.
    expect(confirm).toMatchObject({
      referenceId: "order-a",
      quantity: 3,
      availableBefore: 5,
      availableAfter: 5,
      reservedBefore: 5,
      reservedAfter: 2,
      soldBefore: 0,
      soldAfter: 3,
    });
    const release = history.find((h) => h.operation === "RELEASE")!;
    expect(release).toMatchObject({
      referenceId: "order-b",
      availableBefore: 5,
      availableAfter: 7,
      reservedBefore: 2,
      reservedAfter: 0,
      soldBefore: 3,
      soldAfter: 3,
      reason: "customer changed mind",
    });
    expect(history.map((h) => h.operation)).toEqual(["RELEASE", "CONFIRM", "RESERVE", "RESERVE", "RESTOCK"]);
    expect((await stub.auditLog({ operation: "RESERVE" })).history.map((h) => h.referenceId)).toEqual([
      "order-b",
      "order-a",
    ]);
    const newest = history[0].id;
    expect((await stub.auditLog({ beforeId: newest, limit: 1 })).history.map((h) => h.operation)).toEqual([
      "CONFIRM",
    ]);
    expect(await invariant(stub)).toEqual(allTrue);
  });

  it("reserve is idempotent per order id: a repeat returns the same reservation and writes nothing", async () => {
    const stub = sku(freshName("idem"));
    await stub.restock({ quantity: 5 });
    const first = await stub.reserve({ orderId: "o1", quantity: 2 });
    const again = await stub.reserve({ orderId: "o1", quantity: 2 });
    expect(again).toEqual(first);
    expect(await stub.status()).toMatchObject({ available: 3, reserved: 2, pendingReservations: 1 });
    expect(await logRows(stub, "RESERVE")).toHaveLength(1);
    // Another quantity under the same order id is a conflict, not a second reservation.
    expect(await codeOf(stub.reserve({ orderId: "o1", quantity: 3 }))).toEqual({
      code: "RESERVATION_EXISTS",
      details: { orderId: "o1", status: "PENDING", quantity: 2 },
    });
    // After confirming, the same reserve still answers the same reservation.
    await stub.confirm({ orderId: "o1" });
    expect(await stub.reserve({ orderId: "o1", quantity: 2 })).toMatchObject({
      reservationId: "o1",
      status: "CONFIRMED",
      expiresAt: first.expiresAt,
    });
    // A released reservation is not reopened by a late retry.
    await stub.reserve({ orderId: "o2", quantity: 1 });
    await stub.release({ orderId: "o2" });
    expect(await codeOf(stub.reserve({ orderId: "o2", quantity: 1 }))).toMatchObject({
      code: "RESERVATION_EXISTS",
      details: { status: "RELEASED" },
    });
    expect(await stub.status()).toMatchObject({ available: 3, reserved: 0, sold: 2 });
    expect(await logRows(stub, "RESERVE")).toHaveLength(2);
    expect(await invariant(stub)).toEqual(allTrue);
  });

  it("every error code, each writing nothing", async () => {
    const stub = sku(freshName("errors"));
    expect(await codeOf(stub.reserve({ orderId: "x", quantity: 1 }))).toMatchObject({
      code: "SKU_NOT_FOUND",
    });
    await stub.restock({ quantity: 3 });
    expect(await codeOf(stub.reserve({ orderId: "big", quantity: 4 }))).toEqual({
      code: "INSUFFICIENT_STOCK",
      details: { sku: expect.any(String), available: 3, requested: 4 },
    });
    expect(await codeOf(stub.confirm({ orderId: "nope" }))).toMatchObject({ code: "RESERVATION_NOT_FOUND" });
    expect(await codeOf(stub.release({ orderId: "nope" }))).toMatchObject({ code: "RESERVATION_NOT_FOUND" });
    await stub.reserve({ orderId: "c", quantity: 1 });
    await stub.confirm({ orderId: "c" });
    expect(await codeOf(stub.confirm({ orderId: "c" }))).toMatchObject({ code: "INVALID_STATUS_CONFIRMED" });
    expect(await codeOf(stub.release({ orderId: "c" }))).toMatchObject({ code: "INVALID_STATUS_CONFIRMED" });
    await stub.reserve({ orderId: "r", quantity: 1 });
    await stub.release({ orderId: "r" });
    expect(await codeOf(stub.confirm({ orderId: "r" }))).toMatchObject({ code: "INVALID_STATUS_RELEASED" });
    expect(await codeOf(stub.release({ orderId: "r" }))).toMatchObject({ code: "INVALID_STATUS_RELEASED" });
    expect(await logRows(stub)).toHaveLength(5); // restock, reserve c, confirm c, reserve r, release r
    expect(ActorError.statusOf("INSUFFICIENT_STOCK")).toBe(409);
    expect(ActorError.statusOf("INVALID_STATUS_RELEASED")).toBe(409);
    expect(ActorError.statusOf("RESERVATION_EXISTS")).toBe(409);
    expect(ActorError.statusOf("RESERVATION_NOT_FOUND")).toBe(404);
    expect(await invariant(stub)).toEqual(allTrue);
  });

  it("the tables refuse an oversell even from code that skips the checks", async () => {
    const stub = sku(freshName("checks"));
    await stub.restock({ quantity: 1 });
    const refused = await runInDurableObject(stub, (actor: InventorySKU) => {
      const out: string[] = [];
      for (const sql of [
        "UPDATE inventory SET available = available - 2, reserved = reserved + 2",
        "UPDATE inventory SET available = available + 1",
        "UPDATE inventory SET sold = -1, available = available + 1",
      ]) {
        try {
          actor.run(sql);
          out.push("accepted");
        } catch (err) {
          out.push(String(err).includes("CHECK constraint failed") ? "refused" : String(err));
        }
      }
      return out;
    });
    expect(refused).toEqual(["refused", "refused", "refused"]);
    expect(await stub.status()).toMatchObject({ available: 1, reserved: 0, sold: 0 });
  });
});

describe("expiry", () => {
  /** Move a reservation's deadline into the past (the clock cannot be wound in workerd). */
  const backdate = (stub: DurableObjectStub<InventorySKU>, orderId: string) =>
    runInDurableObject(stub, (actor: InventorySKU) =>
      actor.run("UPDATE reservations SET expires_at = ? WHERE id = ?", [
        new Date(Date.now() - 1000).toISOString(),
        orderId,
      ]),
    );

  it("expireReservations releases only due pending reservations, each logged with running figures", async () => {
    const stub = sku(freshName("expire"));
    await stub.restock({ quantity: 10 });
    for (const [id, q] of [
      ["e1", 1],
      ["e2", 2],
      ["keep", 3],
      ["sold", 4],
    ] as const)
      await stub.reserve({ orderId: id, quantity: q });
    await stub.confirm({ orderId: "sold" });
    await backdate(stub, "e1");
    await backdate(stub, "e2");
    await backdate(stub, "sold"); // confirmed: must stay sold
    expect(await stub.expireReservations()).toEqual({ expired: 2 });
    expect(await stub.expireReservations()).toEqual({ expired: 0 });
    expect(await stub.status()).toMatchObject({ available: 3, reserved: 3, sold: 4, pendingReservations: 1 });
    const expires = (await stub.auditLog({ operation: "EXPIRE" })).history.reverse();
    expect(
      expires.map((e) => [
        e.referenceId,
        e.availableBefore,
        e.availableAfter,
        e.reservedBefore,
        e.reservedAfter,
      ]),
    ).toEqual([
      ["e1", 0, 1, 6, 5],
      ["e2", 1, 3, 5, 3],
    ]);
    expect(await codeOf(stub.confirm({ orderId: "e1" }))).toMatchObject({ code: "INVALID_STATUS_EXPIRED" });
    expect(await invariant(stub)).toEqual(allTrue);
  });

  it("a due reservation cannot be confirmed before the sweep runs: it expires on the spot", async () => {
    const stub = sku(freshName("due"));
    await stub.restock({ quantity: 2 });
    await stub.reserve({ orderId: "late", quantity: 2 });
    await backdate(stub, "late");
    expect(await codeOf(stub.confirm({ orderId: "late" }))).toMatchObject({ code: "INVALID_STATUS_EXPIRED" });
    // The expiry itself was kept even though confirm failed.
    expect(await stub.status()).toMatchObject({ available: 2, reserved: 0, sold: 0 });
    expect((await logRows(stub, "EXPIRE")).map((r) => r.reference_id)).toEqual(["late"]);
    // A retried reserve finds it expired rather than reviving it.
    expect(await codeOf(stub.reserve({ orderId: "late", quantity: 2 }))).toMatchObject({
      code: "RESERVATION_EXISTS",
      details: { status: "EXPIRED" },
    });
    expect(await invariant(stub)).toEqual(allTrue);
  });
});

describe("racing the same reservations", () => {
  it("concurrent confirms and releases of the same reservations, half of them due: each ends once, none due is sold", async () => {
    const name = freshName("race");
    const stub = sku(name);
    await stub.restock({ quantity: 100 });
    const ids = Array.from({ length: 20 }, (_, i) => `race-${i}`);
    for (const id of ids) await stub.reserve({ orderId: id, quantity: 3 });
    // Half of them due: confirm, release and the sweep race for those too.
    await runInDurableObject(stub, (actor: InventorySKU) => {
      for (const id of ids.slice(0, 10))
        actor.run("UPDATE reservations SET expires_at = ? WHERE id = ?", [
          new Date(Date.now() - 1).toISOString(),
          id,
        ]);
    });
    const answers = await Promise.all(
      ids.flatMap((orderId) => [
        post(`/inventory/${name}/confirm`, { orderId }),
        post(`/inventory/${name}/release`, { orderId }),
        post(`/inventory/${name}/confirm`, { orderId }),
      ]),
    );
    // The sweep after the race finds nothing left: confirm and release expired the due ones.
    expect(await stub.expireReservations()).toEqual({ expired: 0 });
    const ok = answers.filter((a) => a.status === 200).length;
    // The ten live ones end exactly once (confirmed or released); the ten due ones never sell.
    expect(ok).toBe(10);
    const s = await stub.status();
    expect(s.reserved).toBe(0);
    expect(s.available + s.sold).toBe(100);
    const [ended] = await runInDurableObject(stub, (actor: InventorySKU) =>
      actor.query<{ expired: number; confirmedDue: number }>(
        `SELECT count(*) FILTER (WHERE status = 'EXPIRED') AS expired,
          count(*) FILTER (WHERE status = 'CONFIRMED' AND id IN (${ids
            .slice(0, 10)
            .map(() => "?")
            .join()})) AS confirmedDue
         FROM reservations`,
        ids.slice(0, 10),
      ),
    );
    expect(ended).toEqual({ expired: 10, confirmedDue: 0 });
    // One terminal log row per reservation.
    const rows = await runInDurableObject(stub, (actor: InventorySKU) =>
      actor.query<{ n: number }>(
        "SELECT count(*) AS n FROM inventory_log WHERE operation IN ('CONFIRM', 'RELEASE', 'EXPIRE') GROUP BY reference_id",
      ),
    );
    expect(rows.map((r) => r.n)).toEqual(ids.map(() => 1));
    expect(await invariant(stub)).toEqual(allTrue);
  });

  it("a reservation whose expiresAt has come cannot be confirmed; one still ahead can", async () => {
    const stub = sku(freshName("edge"));
    await stub.restock({ quantity: 2 });
    await stub.reserve({ orderId: "edge-live", quantity: 1 });
    await stub.reserve({ orderId: "edge-due", quantity: 1 });
    const now = Date.now();
    await runInDurableObject(stub, (actor: InventorySKU) => {
      actor.run("UPDATE reservations SET expires_at = ? WHERE id = 'edge-live'", [
        new Date(now + 60_000).toISOString(),
      ]);
      actor.run("UPDATE reservations SET expires_at = ? WHERE id = 'edge-due'", [
        new Date(now).toISOString(),
      ]);
    });
    expect(await codeOf(stub.confirm({ orderId: "edge-due" }))).toMatchObject({
      code: "INVALID_STATUS_EXPIRED",
    });
    expect(await stub.expireReservations()).toEqual({ expired: 0 });
    expect(await stub.confirm({ orderId: "edge-live" })).toMatchObject({ status: "CONFIRMED" });
    expect(await stub.status()).toMatchObject({ available: 1, reserved: 0, sold: 1 });
    expect(await invariant(stub)).toEqual(allTrue);
  });
});

describe("expiry schedule", () => {
  const tasks = (stub: DurableObjectStub<InventorySKU>) =>
    runInDurableObject(stub, async (actor: InventorySKU, state) => ({
      list: actor.schedule.list(),
      alarm: await state.storage.getAlarm(),
    }));

  it("a stocked SKU has one every-minute expiry task on the alarm, kept across wakes; an unstocked one none", async () => {
    const stub = sku(freshName("sched"));
    expect(await codeOf(stub.status())).toMatchObject({ code: "SKU_NOT_FOUND" });
    expect(await tasks(stub)).toEqual({ list: [], alarm: null });
    await stub.restock({ quantity: 3 });
    const { list: all, alarm } = await tasks(stub);
    const list = all.filter((t) => t.key === "expire"); // history retention has its own task (issue 11)
    expect(list).toMatchObject([
      { key: "expire", method: "expireReservations", kind: "every", intervalMs: 60_000, status: "scheduled" },
    ]);
    expect(alarm).toBe(list[0].nextRunAt);
    expect(list[0].nextRunAt - Date.now()).toBeGreaterThan(50_000);
    await evictDurableObject(stub);
    await stub.restock({ quantity: 1 });
    const again = await tasks(stub);
    again.list = again.list.filter((t) => t.key === "expire"); // history retention has its own task (issue 11)
    expect(again.list).toHaveLength(1);
    expect(again.list[0].id).toBe(list[0].id);
    expect(again.alarm).toBe(list[0].nextRunAt);
  });

  it("the alarm releases due reservations (runDurableObjectAlarm), logs EXPIRE, and re-arms", async () => {
    const stub = sku(freshName("alarm"));
    await stub.restock({ quantity: 10 });
    await stub.reserve({ orderId: "late", quantity: 4 });
    await stub.reserve({ orderId: "fresh", quantity: 1 });
    const before = await tasks(stub);
    // A minute has passed for `late` and for the task.
    await runInDurableObject(stub, (actor: InventorySKU) => {
      actor.run("UPDATE reservations SET expires_at = ? WHERE id = 'late'", [
        new Date(Date.now() - 1).toISOString(),
      ]);
      actor.run("UPDATE _dosql_schedules SET next_run_at = ? WHERE key = 'expire'", [Date.now() - 1]);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.status()).toMatchObject({ available: 9, reserved: 1, pendingReservations: 1 });
    expect((await stub.auditLog({ operation: "EXPIRE" })).history).toMatchObject([
      {
        referenceId: "late",
        quantity: 4,
        availableBefore: 5,
        availableAfter: 9,
        reservedBefore: 5,
        reservedAfter: 1,
      },
    ]);
    const after = await tasks(stub);
    after.list = after.list.filter((t) => t.key === "expire"); // history retention has its own task (issue 11)
    expect(after.list).toMatchObject([{ id: before.list[0].id, runs: 1, status: "scheduled", attempts: 0 }]);
    expect(after.list[0].nextRunAt).toBeGreaterThan(Date.now());
    expect(after.alarm).toBe(after.list[0].nextRunAt);
    expect(await invariant(stub)).toEqual(allTrue);
  });
});

describe("stateAt (time travel on the change history)", () => {
  const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

  it("answers the figures as they were after each operation, agreeing with the audit log", async () => {
    const name = freshName("asof");
    const stub = sku(name);
    expect(await codeOf(stub.status())).toMatchObject({ code: "SKU_NOT_FOUND" }); // wakes it: history starts
    await tick();
    const beforeStock = Date.now();
    const steps: (() => Promise<unknown>)[] = [
      () => stub.restock({ quantity: 10, productName: "Lamp" }),
      () => stub.reserve({ orderId: "t1", quantity: 3 }),
      () => stub.reserve({ orderId: "t2", quantity: 4 }),
      () => stub.confirm({ orderId: "t1" }),
      () => stub.release({ orderId: "t2" }),
      () => stub.restock({ quantity: 5 }),
    ];
    // A moment after each operation answered (and before the next began), on the same clock.
    const moments: number[] = [];
    for (const step of steps) {
      await tick();
      await step();
      moments.push(Date.now());
      await tick();
    }
    const log = (await stub.auditLog({})).history.reverse();
    expect(log).toHaveLength(steps.length);
    // Two independent records must agree: the change history read AS OF each moment, and the log's "after".
    for (const [i, entry] of log.entries()) {
      const state = await stub.stateAt(moments[i]);
      expect([state.available, state.reserved, state.sold], `after ${entry.operation}`).toEqual([
        entry.availableAfter,
        entry.reservedAfter,
        entry.soldAfter,
      ]);
      expect(state.available + state.reserved + state.sold).toBe(state.restocked);
    }
    expect(await stub.stateAt(new Date(moments[2]).toISOString())).toMatchObject({
      sku: name,
      productName: "Lamp",
      available: 3,
      reserved: 7,
      pendingReservations: 2,
      at: new Date(moments[2]).toISOString(),
    });
    expect(await codeOf(stub.stateAt(beforeStock))).toMatchObject({ code: "SKU_NOT_FOUND" });
    expect(await codeOf(stub.stateAt(1000))).toMatchObject({ code: "SKU_NOT_FOUND" }); // before the first restock (issue 11)
    const iso = encodeURIComponent(new Date(moments[1]).toISOString());
    const res = await get(`/inventory/${name}/state-at?timestamp=${iso}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ available: 7, reserved: 3, sold: 0, pendingReservations: 1 });
    const byMs = await get(`/inventory/${name}/state-at?timestamp=${moments[3]}`);
    expect(await byMs.json()).toMatchObject({ available: 3, reserved: 4, sold: 3 });
    for (const bad of ["", "yesterday", "-5", "2026-13-45T00:00:00Z", "1e400"])
      expect((await get(`/inventory/${name}/state-at?timestamp=${bad}`)).status, bad).toBe(400);
    expect((await get(`/inventory/${name}/state-at`)).status).toBe(400);
  });
});

describe("reserveMany", () => {
  it("reserves a batch in one transaction with per-item results", async () => {
    const stub = sku(freshName("many"));
    await stub.restock({ quantity: 5 });
    const { results, reserved } = await stub.reserveMany({
      items: [
        { orderId: "m1", quantity: 2 },
        { orderId: "m2", quantity: 4 },
        { orderId: "m3", quantity: 3 },
        { orderId: "m1", quantity: 2 },
        { orderId: "m1", quantity: 1 },
      ],
    });
    // m1 and m3 hold a reservation; m1's second item is its replay, counted once.
    expect(reserved).toBe(2);
    expect(results.map((r) => (r.success ? `${r.orderId}:ok` : `${r.orderId}:${r.error.code}`))).toEqual([
      "m1:ok",
      "m2:INSUFFICIENT_STOCK",
      "m3:ok",
      "m1:ok",
      "m1:RESERVATION_EXISTS",
    ]);
    expect(await stub.status()).toMatchObject({ available: 0, reserved: 5, pendingReservations: 2 });
    expect(await logRows(stub, "RESERVE")).toHaveLength(2);
    expect(await invariant(stub)).toEqual(allTrue);
  });

  it("a batch with one malformed item is refused whole", async () => {
    const stub = sku(freshName("manybad"));
    await stub.restock({ quantity: 5 });
    const bad = await codeOf(
      stub.reserveMany({
        items: [
          { orderId: "ok", quantity: 1 },
          { orderId: "bad", quantity: -1 },
        ],
      }),
    );
    expect(bad.code).toBe("VALIDATION_FAILED");
    expect(await codeOf(stub.reserveMany({ items: [] }))).toMatchObject({ code: "VALIDATION_FAILED" });
    expect(await stub.status()).toMatchObject({ available: 5, reserved: 0 });
  });
});

describe("HTTP routes", () => {
  it("serve the inventory flow with the DESIGN §4 shapes", async () => {
    const name = freshName("http");
    let res = await post(`/inventory/${name}/restock`, { quantity: 4, productName: "Mug" });
    expect(res.status).toBe(200);
    res = await post(`/inventory/${name}/reserve`, { orderId: "h1", quantity: 3 });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ success: true, reservationId: "h1" });
    res = await post(`/inventory/${name}/reserve`, { orderId: "h2", quantity: 2 });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({
      error: {
        code: "INSUFFICIENT_STOCK",
        message: expect.any(String),
        details: { sku: name, available: 1, requested: 2 },
      },
    });
    res = await post(`/inventory/${name}/confirm`, { orderId: "h1" });
    expect(res.status).toBe(200);
    res = await post(`/inventory/${name}/release`, { orderId: "h1" });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("INVALID_STATUS_CONFIRMED");
    res = await post(`/inventory/${name}/release`, { orderId: "zz" });
    expect(res.status).toBe(404);
    res = await post(`/inventory/${name}/reserve-many`, { items: [{ orderId: "h3", quantity: 1 }] });
    expect(await res.json()).toMatchObject({ reserved: 1 });
    res = await get(`/inventory/${name}/status`);
    expect(await res.json()).toMatchObject({ sku: name, available: 0, reserved: 1, sold: 3, restocked: 4 });
    res = await get(`/inventory/${name}/history?limit=2&operation=RESERVE`);
    const body = (await res.json()) as { history: { referenceId: string }[] };
    expect(body.history.map((h) => h.referenceId)).toEqual(["h3", "h1"]);
    expect((await get(`/inventory/never-stocked-${name}/status`)).status).toBe(404);
    expect((await get(`/inventory/${name}/history?limit=ten`)).status).toBe(400);
    expect((await get(`/inventory/${name}/history?operation=DROP`)).status).toBe(400);
    expect((await get(`/inventory/bad%20name/status`)).status).toBe(400);
  });

  it("bad inputs answer 400 and write nothing", async () => {
    const name = freshName("bad");
    await sku(name).restock({ quantity: 100 });
    const before = await logRows(sku(name));
    const bodies: unknown[] = [
      { orderId: "a", quantity: -1 },
      { orderId: "a", quantity: 0 },
      { orderId: "a", quantity: 1.5 },
      { orderId: "a", quantity: 1e12 },
      '{"orderId":"a","quantity":1e400}',
      { orderId: "a", quantity: "5" },
      { orderId: "a" },
      { quantity: 1 },
      { orderId: "", quantity: 1 },
      { orderId: "has space", quantity: 1 },
      { orderId: 7, quantity: 1 },
      { orderId: "a", quantity: 1, ttlMinutes: 0 },
      { orderId: "a", quantity: 1, ttlMinutes: "15" },
      { orderId: "a", quantity: null },
      [],
      "null",
      "not json",
      "",
    ];
    for (const body of bodies) {
      const res = await post(`/inventory/${name}/reserve`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const err = (await res.json()) as { error: { code: string; message: string } };
      expect(["VALIDATION_FAILED", "INVALID_JSON"]).toContain(err.error.code);
    }
    for (const body of [
      { quantity: 0 },
      { quantity: -5 },
      { quantity: 2.5 },
      { quantity: 2e9 },
      {},
      { quantity: 1, productName: "" },
    ]) {
      const res = await post(`/inventory/${name}/restock`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    for (const path of ["confirm", "release"]) {
      expect((await post(`/inventory/${name}/${path}`, {})).status).toBe(400);
      expect((await post(`/inventory/${name}/${path}`, { orderId: 5 })).status).toBe(400);
    }
    expect((await post(`/inventory/${name}/reserve-many`, { items: "x" })).status).toBe(400);
    // Straight RPC with the same garbage is refused the same way.
    for (const body of [{ orderId: "a", quantity: -1 }, { orderId: "a", quantity: Number.NaN }, null, "str"])
      expect((await codeOf(sku(name).reserve(body as never))).code).toBe("VALIDATION_FAILED");
    expect(await logRows(sku(name))).toEqual(before);
    expect(await sku(name).status()).toMatchObject({ available: 100, reserved: 0, restocked: 100 });
  });
});

describe("never oversell under load", () => {
  /**
   * 2,000 buyers of one unit each against stock 500, all concurrent through the coordinator.
   * `interrupt(stub)` (an eviction or an abort) runs once `firstWave` buyers have been sent and
   * `after` of them answered; the remaining buyers are sent once it is done, so the sale really
   * straddles it. Buyers whose call fails for another reason than the stock retry with the same
   * order id, as a client would: reserve is idempotent per order id.
   */
  async function flashSale(
    name: string,
    interruption?: { firstWave: number; after: number; interrupt: () => Promise<void> },
  ) {
    await sku(name).restock({ quantity: 500 });
    await runInDurableObject(sku(name), (actor: InventorySKU) => {
      (actor as unknown as { marker: boolean }).marker = true;
    });
    let answered = 0;
    let retries = 0;
    let unavailable = 0;
    let release: () => void = () => {};
    const interrupted = new Promise<void>((resolve) => {
      release = resolve;
    });
    if (!interruption) release();
    const attempt = async (i: number): Promise<"ok" | "sold-out"> => {
      if (interruption && i >= interruption.firstWave) await interrupted;
      for (;;) {
        const res = await post(`/inventory/${name}/reserve`, { orderId: `buyer-${i}`, quantity: 1 });
        if (++answered === interruption?.after) void interruption.interrupt().then(release);
        if (res.status === 200) return "ok";
        const body = (await res.json()) as { error: { code: string } };
        if (res.status === 409 && body.error.code === "INSUFFICIENT_STOCK") return "sold-out";
        if (res.status === 503 && body.error.code === "ACTOR_UNAVAILABLE") unavailable++;
        retries++;
      }
    };
    const outcomes = await Promise.all(Array.from({ length: 2000 }, (_, i) => attempt(i)));
    const sameInstance = await runInDurableObject(
      sku(name),
      (actor: InventorySKU) => (actor as unknown as { marker?: boolean }).marker === true,
    );
    return { outcomes, retries, unavailable, sameInstance };
  }

  /** After the sale: all 500 units reserved, one RESERVE row per buyer (never two), the invariant whole. */
  async function expectSoldOutOnce(name: string) {
    expect(await sku(name).status()).toMatchObject({
      available: 0,
      reserved: 500,
      sold: 0,
      pendingReservations: 500,
    });
    const reserves = await logRows(sku(name), "RESERVE");
    expect(reserves).toHaveLength(500);
    expect(new Set(reserves.map((r) => r.reference_id)).size).toBe(500);
    expect(await invariant(sku(name))).toEqual(allTrue);
  }

  it("2,000 concurrent reserves of 1 through the coordinator against stock 500: exactly 500 succeed", async () => {
    const name = freshName("flash");
    const { outcomes, sameInstance } = await flashSale(name);
    expect(sameInstance).toBe(true);
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(500);
    expect(outcomes.filter((o) => o === "sold-out")).toHaveLength(1500);
    await expectSoldOutOnce(name);
  });

  it("the same while the actor is evicted midway", async () => {
    const name = freshName("flash-evict");
    const { outcomes, sameInstance } = await flashSale(name, {
      firstWave: 400,
      after: 200,
      interrupt: () => evictDurableObject(sku(name)),
    });
    expect(sameInstance).toBe(false);
    // The first 400 buyers were served before the eviction, the other 100 units after it.
    expect(outcomes.slice(0, 400).every((o) => o === "ok")).toBe(true);
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(500);
    // Late retries of already-served buyers get their reservation back, not a second one.
    for (const i of [0, 199, 399]) {
      const res = await post(`/inventory/${name}/reserve`, { orderId: `buyer-${i}`, quantity: 1 });
      expect(res.status).toBe(200);
    }
    await expectSoldOutOnce(name);
  });

  it("the same when the actor is aborted mid-sale (calls in flight fail and are retried)", async () => {
    const name = freshName("flash-abort");
    const { outcomes, sameInstance, retries, unavailable } = await flashSale(name, {
      firstWave: 1000,
      after: 100,
      // ctx.abort() resets this one object only (abortAllDurableObjects would hit other test files).
      interrupt: () =>
        runInDurableObject(sku(name), (_actor, state) => state.abort("crash on purpose")).catch(() => {}),
    });
    // Every call in flight at the reset was answered 503 ACTOR_UNAVAILABLE (retryable), nothing else.
    expect(retries).toBeGreaterThan(0);
    expect(unavailable).toBe(retries);
    expect(sameInstance).toBe(false);
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(500);
    await expectSoldOutOnce(name);
  });
});

describe("stateAt before the first restock, and history retention (issue 11)", () => {
  it("any time before the first restock is SKU_NOT_FOUND (404), even before history began", async () => {
    const name = freshName("before-stock");
    const stub = sku(name);
    // Never stocked: every time is before the first restock.
    expect(await codeOf(stub.stateAt(Date.now() - 1000))).toMatchObject({ code: "SKU_NOT_FOUND" });
    await stub.restock({ quantity: 4, productName: "Chair" });
    const [restock] = (await stub.auditLog({})).history;
    const stocked = Date.parse(restock.timestamp);
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (const at of [1000, stocked - 60_000, stocked - 1])
      expect(await codeOf(stub.stateAt(at)), `at ${at}`).toMatchObject({ code: "SKU_NOT_FOUND" });
    const res = await get(`/inventory/${name}/state-at?timestamp=1000`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("SKU_NOT_FOUND");
    expect(await stub.stateAt(Date.now())).toMatchObject({ available: 4, restocked: 4 });
  });

  it("keeps 30 days of change history: the retention task prunes older changes, the audit log stays whole", async () => {
    const looked = sku(freshName("looked-up"));
    expect(await codeOf(looked.status())).toMatchObject({ code: "SKU_NOT_FOUND" });
    const none = await runInDurableObject(looked, (a: InventorySKU) =>
      a.schedule.get("dosql:history:retention"),
    );
    expect(none).toBeUndefined();

    const stub = sku(freshName("retain"));
    await stub.restock({ quantity: 20, productName: "Desk" });
    for (let i = 0; i < 5; i++) await stub.reserve({ orderId: `o${i}`, quantity: 1 });
    const wal = (actor: InventorySKU) =>
      actor.query<{ n: number }>("SELECT count(*) AS n FROM _dosql_wal")[0].n;
    const before = await runInDurableObject(stub, async (actor: InventorySKU, state) => {
      const task = actor.schedule.get("dosql:history:retention");
      const within = actor.history.prune({ now: Date.now() + 29 * 86_400_000 });
      // The changes so far become 31 days old, and the retention task is due now.
      actor.run("UPDATE _dosql_wal SET at = at - ? WHERE at IS NOT NULL", [31 * 86_400_000]);
      actor.run("UPDATE _dosql_schedules SET next_run_at = ? WHERE key = 'dosql:history:retention'", [
        Date.now() - 1,
      ]);
      await state.storage.setAlarm(Date.now() + 1);
      return { task: task?.method, within: within.pruned, wal: wal(actor) };
    });
    expect(before).toMatchObject({ task: "pruneHistory", within: 0 });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const after = await runInDurableObject(stub, (actor: InventorySKU) => wal(actor));
    expect(after).toBeLessThan(before.wal);
    expect((await stub.auditLog({})).history).toHaveLength(6);
  });
});

describe("inventory_log without AUTOINCREMENT (migration 0002)", () => {
  it("keeps every log row and its id, the CHECK, and continues the ids after the newest", async () => {
    const { default: bundle } = await import("../migrations/inventory-sku/migrations.js");
    const { applyMigrations } = await import("../src/index");
    const upTo = (n: number) => ({
      journal: { ...bundle.journal, entries: bundle.journal.entries.slice(0, n) },
      migrations: Object.fromEntries(Object.entries(bundle.migrations).slice(0, n)),
    });
    const result = await runInDurableObject(env.FIXTURE.getByName(freshName("log-rebuild")), (_a, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE IF EXISTS _dosql_migrations");
      applyMigrations(state.storage, upTo(2));
      const log = (op: string, q: number) =>
        sql.exec(
          "INSERT INTO inventory_log (operation, quantity, available_before, available_after, reserved_before, reserved_after, sold_before, sold_after, timestamp) VALUES (?, ?, 0, ?, 0, 0, 0, 0, '2026-01-01T00:00:00.000Z')",
          op,
          q,
          q,
        );
      for (let i = 1; i <= 5; i++) log("RESTOCK", i);
      sql.exec("DELETE FROM inventory_log WHERE id = 2");
      const before = sql.exec("SELECT * FROM inventory_log ORDER BY id").toArray();
      const report = applyMigrations(state.storage, upTo(3));
      const after = sql.exec("SELECT * FROM inventory_log ORDER BY id").toArray();
      log("RESTOCK", 9);
      let refused = "";
      try {
        log("SOLD_TWICE", 1);
      } catch (err) {
        refused = String(err);
      }
      return {
        applied: report.applied,
        same: JSON.stringify(before) === JSON.stringify(after),
        ids: after.map((r) => r.id),
        next: sql.exec("SELECT max(id) AS id FROM inventory_log").one().id,
        ddl: String(sql.exec("SELECT sql FROM sqlite_master WHERE name = 'inventory_log'").one().sql),
        refused,
      };
    });
    expect(result.applied).toEqual(["0002_log_without_autoincrement"]);
    expect(result.same).toBe(true);
    expect(result.ids).toEqual([1, 3, 4, 5]);
    expect(result.next).toBe(6);
    expect(result.ddl).not.toMatch(/AUTOINCREMENT/i);
    expect(result.ddl).toContain('"inventory_log"."operation"');
    expect(result.refused).toContain("CHECK constraint failed");
  });
});
