// reserveMany's `reserved` counts reservations, not items: an order id twice in one batch is the
// idempotent replay of its first item (one reservation), exactly as it would be in the next batch.
import { env, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { InventorySKU, ReserveManyItem } from "../actors/index";

let seq = 0;
const freshName = (prefix: string) => `${prefix}-${Date.now()}-${seq++}`;
const sku = (name: string) => env.INVENTORY_SKU.getByName(name);

const post = (path: string, body: unknown) =>
  exports.default.fetch(`http://coordinator${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

/** The SKU's figures and pending reservations, read straight from its tables. */
const tables = (name: string) =>
  runInDurableObject(sku(name), (actor: InventorySKU) => {
    const [inv] = actor.query<{ available: number; reserved: number; sold: number; restocked: number }>(
      "SELECT available, reserved, sold, restocked FROM inventory",
    );
    const pending = actor.query<{ id: string; quantity: number }>(
      "SELECT id, quantity FROM reservations WHERE status = 'PENDING' ORDER BY id",
    );
    const [log] = actor.query<{ n: number }>(
      "SELECT count(*) AS n FROM inventory_log WHERE operation = 'RESERVE'",
    );
    return { ...inv, pending, reserveRows: log.n };
  });

const heldIds = (results: ReserveManyItem[]) =>
  new Set(results.filter((r) => r.success).map((r) => r.orderId));

describe("reserveMany with one order id twice in a batch", () => {
  it("answers the duplicate as the same reservation and counts it once in `reserved`", async () => {
    const name = freshName("dup-batch");
    await sku(name).restock({ quantity: 10 });
    const { results, reserved } = await sku(name).reserveMany({
      items: [
        { orderId: "a", quantity: 2 },
        { orderId: "b", quantity: 3 },
        { orderId: "a", quantity: 2 }, // a retry of item 0 in the same batch
        { orderId: "b", quantity: 1 }, // another quantity under b's id: a conflict, as across batches
      ],
    });
    expect(
      results.map((r) => (r.success ? `${r.orderId}:${r.quantity}` : `${r.orderId}:${r.error.code}`)),
    ).toEqual(["a:2", "b:3", "a:2", "b:RESERVATION_EXISTS"]);
    expect(reserved).toBe(2);
    const t = await tables(name);
    expect(t).toMatchObject({ available: 5, reserved: 5, sold: 0, restocked: 10, reserveRows: 2 });
    expect(t.pending).toEqual([
      { id: "a", quantity: 2 },
      { id: "b", quantity: 3 },
    ]);
  });

  it("concurrent batches over HTTP with repeated and overlapping order ids: `reserved` is each batch's distinct held ids, the SKU holds each once", async () => {
    const name = freshName("dup-conc");
    await sku(name).restock({ quantity: 1000 });
    // 8 batches at once; each names 20 order ids from a shared pool of 30, every one of them twice.
    const batches = Array.from({ length: 8 }, (_, b) => {
      const ids = Array.from({ length: 20 }, (_, i) => `o${(b * 7 + i) % 30}`);
      return [...ids, ...ids.reverse()].map((orderId) => ({
        orderId,
        quantity: 1 + (Number(orderId.slice(1)) % 3),
      }));
    });
    const answers = await Promise.all(
      batches.map((items) => post(`/inventory/${name}/reserve-many`, { items })),
    );
    expect(answers.map((r) => r.status)).toEqual(batches.map(() => 200));
    const bodies = (await Promise.all(answers.map((r) => r.json()))) as {
      results: ReserveManyItem[];
      reserved: number;
    }[];
    const everyHeld = new Set<string>();
    for (const [b, { results, reserved }] of bodies.entries()) {
      expect(
        results.every((r) => r.success),
        `batch ${b}`,
      ).toBe(true);
      expect(reserved, `batch ${b}`).toBe(heldIds(results).size);
      expect(reserved, `batch ${b}`).toBe(20);
      for (const id of heldIds(results)) everyHeld.add(id);
    }
    const t = await tables(name);
    const units = [...everyHeld].reduce((n, id) => n + 1 + (Number(id.slice(1)) % 3), 0);
    expect(t.pending.map((p) => p.id).sort()).toEqual([...everyHeld].sort());
    expect(t.reserveRows).toBe(everyHeld.size);
    expect(t).toMatchObject({ reserved: units, available: 1000 - units, sold: 0, restocked: 1000 });
    expect(t.available + t.reserved + t.sold).toBe(t.restocked);
  });
});
