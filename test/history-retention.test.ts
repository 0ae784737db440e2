import { describe, expect, it } from "vitest";
import { codeOf, freshHistory, inside, tick } from "./history-helpers";

const HOUR = 3_600_000;

async function withChanges(prefix: string, transactions: number) {
  const stub = freshHistory(prefix);
  await inside(stub, (actor) => {
    for (let i = 1; i <= transactions; i++)
      actor.transaction(() => {
        actor.run("INSERT INTO items (id, name, qty) VALUES (?, 'x', 0)", [i]);
        actor.run("UPDATE items SET qty = ? WHERE id = ?", [i, i]);
      });
  });
  return stub;
}

describe("durable subscribers", () => {
  it("register idempotently, acknowledge forward only, and validate", async () => {
    const stub = await withChanges("subs", 3);
    const history = await stub.history;
    expect(await history.subscribe("indexer")).toEqual({ id: "indexer", acked: 6, nextLsn: 7 });
    expect(await history.subscribe("indexer", { fromLsn: 1 })).toEqual({
      id: "indexer",
      acked: 6,
      nextLsn: 7,
    });
    expect(await history.subscribe("replica", { fromLsn: 1 })).toEqual({
      id: "replica",
      acked: 0,
      nextLsn: 1,
    });
    expect(await history.ack("replica", 4)).toMatchObject({ acked: 4 });
    expect(await history.ack("replica", 2)).toMatchObject({ acked: 4 });
    const codes = await Promise.all([
      codeOf(history.ack("replica", 99)),
      codeOf(history.ack("nobody", 1)),
      codeOf(history.ack("replica", -1)),
      codeOf(history.subscribe("")),
      codeOf(history.subscribe("x".repeat(200))),
      codeOf(history.subscribe("late", { fromLsn: 0 })),
    ]);
    expect(codes.map((e) => e?.code)).toEqual([
      "VALIDATION_FAILED",
      "SUBSCRIBER_NOT_FOUND",
      "VALIDATION_FAILED",
      "VALIDATION_FAILED",
      "VALIDATION_FAILED",
      "VALIDATION_FAILED",
    ]);
    expect((await history.subscribers()).map((s) => [s.id, s.acked])).toEqual([
      ["indexer", 6],
      ["replica", 4],
    ]);
    expect(await history.unsubscribe("indexer")).toBe(true);
    expect(await history.unsubscribe("indexer")).toBe(false);
  });
});

describe("retention", () => {
  it("prunes by age and size, whole transactions only, and never what a subscriber has not acknowledged", async () => {
    const stub = await withChanges("prune", 10); // LSNs 1..20, transactions of two changes
    const history = await stub.history;
    await history.subscribe("slow", { fromLsn: 1 });
    const t0 = await inside(stub, () => Date.now());
    // Two hours later every change is past the one-hour age, but "slow" has acknowledged nothing.
    expect(await history.prune({ now: t0 + 2 * HOUR })).toMatchObject({
      pruned: 0,
      floorLsn: 1,
      heldBy: "subscriber",
    });
    // Acknowledging up to the middle of a transaction frees only the transactions before it.
    await history.ack("slow", 7);
    expect(await history.prune({ now: t0 + 2 * HOUR })).toMatchObject({
      pruned: 6,
      floorLsn: 7,
      heldBy: "subscriber",
    });
    const feed = await history.changes({ fromLsn: 7 });
    expect(feed.changes.map((c) => c.lsn)[0]).toBe(7);
    expect((await codeOf(history.changes({ fromLsn: 6 })))?.code).toBe("HISTORY_PRUNED");
    expect((await codeOf(stub.undo(5)))?.code).toBe("HISTORY_PRUNED");
    expect((await codeOf(stub.itemsAsOf(t0 - HOUR)))?.code).toBe("HISTORY_UNAVAILABLE");
    // Without subscribers, everything past the age goes except the newest transaction.
    await history.unsubscribe("slow");
    expect(await history.prune({ now: t0 + 2 * HOUR })).toMatchObject({ pruned: 12, floorLsn: 19 });
    // LSNs never start over.
    await stub.addItem(100, "after", 1);
    const tail = await history.changes({ fromLsn: 19 });
    expect(tail.changes.map((c) => c.lsn)).toEqual([19, 20, 21]);
  });

  it("keeps AS OF answers exact for times it still covers, and refuses older ones", async () => {
    const stub = freshHistory("asof-pruned");
    await stub.addItem(1, "a", 1);
    await tick();
    const t1 = await inside(stub, () => Date.now());
    await tick();
    await stub.setQty(1, 2);
    await tick();
    const t2 = await inside(stub, () => Date.now());
    await tick();
    await stub.setQty(1, 3);
    const history = await stub.history;
    // Prune what is older than t2 + 1 hour ago, seen from one hour after t2: the first two transactions.
    expect(await history.prune({ now: t2 + HOUR })).toMatchObject({ pruned: 2 });
    expect(await stub.itemsAsOf(t2)).toEqual([{ id: 1, name: "a", qty: 2 }]);
    expect((await codeOf(stub.itemsAsOf(t1)))?.code).toBe("HISTORY_PRUNED");
  });

  it("prunes by size in bounded steps", async () => {
    const stub = await withChanges("size", 700); // 1,400 changes; the fixture keeps at most 1,000
    const history = await stub.history;
    const first = await history.prune({ maxPerCall: 300 });
    expect(first).toMatchObject({ pruned: 300, floorLsn: 301, more: true });
    const second = await history.prune({ maxPerCall: 300 });
    expect(second).toMatchObject({ pruned: 100, floorLsn: 401, more: false });
    expect((await history.status()).floorLsn).toBe(401);
    expect((await codeOf(history.prune({ maxPerCall: 0 })))?.code).toBe("VALIDATION_FAILED");
  });
});
