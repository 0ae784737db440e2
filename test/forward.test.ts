import { env, evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { forward } from "../src/forward/index";
import { ActorError, defineActor } from "../src/index";
import {
  exactlyOnce,
  exportedLsns,
  freshSource,
  itemsBatch,
  mirrored,
  sinks,
  sleep,
  until,
} from "./forward-helpers";
import { codeOf } from "./history-helpers";

describe("forward: delivery to a queue, another actor and user code", () => {
  it("each target gets every exported change once, in order, with source, forward and LSN range", async () => {
    const { name, source } = freshSource("basic");
    await source.add(1, "a", 5, "TOPSECRET-1");
    await source.add(2, "b", 6, "TOPSECRET-2");
    await source.setQty(1, 7);
    await source.remove(2);
    await source.addMany([
      { id: 3, name: "c", qty: 1, secret: "TOPSECRET-3" },
      { id: 4, name: "d", qty: 2, secret: "TOPSECRET-4" },
    ]);
    const s = sinks(name);
    await mirrored(source, s.mirror, name, "actor target");
    await mirrored(source, s.queue, name, "queue target");
    await mirrored(source, s.webhook, name, "call target");
    const lsns = await exportedLsns(source);
    expect(lsns).toHaveLength(6);
    await exactlyOnce(s.mirror, name, "mirror", lsns);
    await exactlyOnce(s.queue, name, "queue", lsns);
    await exactlyOnce(s.webhook, name, "webhook", lsns);
    const stats = await source.stats();
    expect(stats.forwards.map((f) => [f.name, f.target, f.state, f.pending])).toEqual([
      ["mirror", "actor:FORWARD_SINK.receive", "active", 0],
      ["queue", "queue:FORWARD_QUEUE", "active", 0],
      ["webhook", "call:sendOut", "active", 0],
    ]);
    for (const f of stats.forwards) {
      expect(f.ackedLsn).toBe(await source.lastLsn());
      expect(f.delivered.changes).toBe(6);
    }
    // Each forward is a durable subscriber of the history.
    expect((await (await source.history).subscribers()).map((x) => x.id)).toEqual([
      "forward:mirror",
      "forward:queue",
      "forward:webhook",
    ]);
  });

  it("an undeclared column or table never reaches any target, whatever is written", async () => {
    const { name, source } = freshSource("undeclared");
    await source.add(1, "a", 1, "TOPSECRET-insert");
    await source.setSecret(1, "TOPSECRET-update-only");
    await source.addSecret(1, "TOPSECRET-table");
    await source.addMany([{ id: 2, name: "b", qty: 2, secret: "TOPSECRET-tx" }]);
    await source.setQty(2, 3);
    await source.setSecret(2, "TOPSECRET-again");
    await source.remove(1);
    await source.addSecret(2, "TOPSECRET-table-2");
    const s = sinks(name);
    for (const sink of [s.mirror, s.queue, s.webhook]) await mirrored(source, sink, name, "delivery");
    await until(async () => (await source.stats()).forwards.every((f) => f.pending === 0), "acknowledged");
    const lsns = await exportedLsns(source);
    expect(lsns).toHaveLength(4); // two inserts, one qty update, one delete
    for (const [forwardName, sink] of [
      ["mirror", s.mirror],
      ["queue", s.queue],
      ["webhook", s.webhook],
    ] as const) {
      await exactlyOnce(sink, name, forwardName, lsns);
      const dump = await sink.dump();
      const everything = JSON.stringify(dump);
      expect(everything).not.toContain("TOPSECRET");
      expect(everything).not.toMatch(/secret/i);
      expect(dump.mirror.every((r) => r.extra === "[]")).toBe(true);
      for (const body of [
        ...dump.arrivals.flatMap((a) => JSON.parse(a).changes),
        ...dump.received.map((r) => JSON.parse(r.body)),
      ]) {
        expect(body.table).toBe("items");
        expect(
          Object.keys(body).every((k) =>
            ["lsn", "tx", "at", "table", "op", "key", "before", "after", "changed"].includes(k),
          ),
        ).toBe(true);
        for (const row of [body.key, body.before, body.after])
          if (row) expect(Object.keys(row).every((k) => ["id", "name", "qty"].includes(k))).toBe(true);
      }
    }
  });

  it("where: a change the filter refuses is not sent, and the LSN range still moves on", async () => {
    const { name, source } = freshSource("where");
    await source.add(1, "shown", 1, "x");
    await source.add(2, "hidden-one", 1, "x");
    await source.add(3, "shown-too", 1, "x");
    const s = sinks(name);
    await mirrored(source, s.mirror, name, "mirror");
    await until(async () => (await s.webhook.dump()).mirror.length === 2, "webhook");
    await until(async () => (await source.stats()).forwards.every((f) => f.pending === 0), "acknowledged");
    expect((await s.webhook.dump()).mirror.map((r) => r.name)).toEqual(["shown", "shown-too"]);
    expect(await s.webhook.applied(name, "webhook")).toBe(await source.lastLsn());
  });

  it("ordering per source under concurrent writers, three sources at once", async () => {
    const sources = [freshSource("order"), freshSource("order"), freshSource("order")];
    await Promise.all(
      sources.map(async ({ source }) => {
        // 40 concurrent requests per source: inserts, transactions of several rows, updates, deletes.
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            i % 4 === 0
              ? source.addMany(
                  [0, 1, 2].map((k) => ({ id: 1000 + i * 10 + k, name: `t${i}`, qty: k, secret: "s" })),
                )
              : source.add(i, `n${i}`, i, "s"),
          ),
        );
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 3 === 0 ? source.remove(i) : source.setQty(i, i * 100))),
        );
      }),
    );
    for (const { name, source } of sources) {
      const s = sinks(name);
      await mirrored(source, s.mirror, name, "mirror");
      await mirrored(source, s.queue, name, "queue");
      const lsns = await exportedLsns(source);
      // exactlyOnce compares the stored order with the LSN order: strictly rising per source.
      await exactlyOnce(s.mirror, name, "mirror", lsns);
      await exactlyOnce(s.queue, name, "queue", lsns);
    }
  });
});

describe("forward: failures", () => {
  it("a target that fails three times, then succeeds: applied exactly once in effect", async () => {
    const { name, source } = freshSource("flaky");
    const { mirror } = sinks(name);
    await mirror.configure({ failBefore: 3 });
    await source.add(1, "a", 1, "s");
    await source.add(2, "b", 2, "s");
    await mirrored(source, mirror, name, "after three failures");
    await until(async () => (await source.stats()).forwards[0].pending === 0, "acknowledged");
    const stats = (await source.stats()).forwards[0];
    expect(stats.state).toBe("active");
    expect(stats.failures).toBe(0);
    expect(stats.lastError).toBeNull();
    const dump = await mirror.dump();
    expect(dump.arrivals.length).toBeGreaterThanOrEqual(4); // three refused, then accepted
    await exactlyOnce(mirror, name, "mirror", await exportedLsns(source));
  });

  it("a target that applies, then fails to answer three times: redelivery changes nothing", async () => {
    const { name, source } = freshSource("lost-answer");
    const { mirror } = sinks(name);
    await mirror.configure({ failAfter: 3 });
    await source.addMany([
      { id: 1, name: "a", qty: 1, secret: "s" },
      { id: 2, name: "b", qty: 2, secret: "s" },
    ]);
    await source.setQty(1, 10);
    await until(async () => (await source.stats()).forwards[0].pending === 0, "acknowledged");
    await mirrored(source, mirror, name, "mirror");
    const dump = await mirror.dump();
    expect(dump.arrivals.length).toBeGreaterThanOrEqual(4);
    await exactlyOnce(mirror, name, "mirror", await exportedLsns(source));
  });

  it("parks after its attempts (error in stats), holds retention, and resumes exactly where it stopped", async () => {
    const { name, source } = freshSource("park");
    const s = sinks(name);
    await s.mirror.configure({ failBefore: 1000 });
    for (let i = 1; i <= 12; i++) await source.add(i, `n${i}`, i, "s");
    await until(async () => (await source.stats()).forwards[0].state === "parked", "parked");
    const parked = (await source.stats()).forwards[0];
    expect(parked.failures).toBe(6);
    expect(parked.lastError).toContain("SINK_DOWN");
    expect(parked.parkedAt).toBeTypeOf("number");
    expect(parked.ackedLsn).toBe(0);
    expect(parked.pending).toBe(12);
    // The other forwards go on.
    await mirrored(source, s.queue, name, "queue while mirror is parked");
    await until(async () => (await source.stats()).forwards[1].pending === 0, "queue acknowledged");
    // Retention (maxChanges 5) holds everything the parked forward has not delivered.
    const history = await source.history;
    const pruned = await history.prune();
    expect(pruned.pruned).toBe(0);
    expect(pruned.heldBy).toBe("subscriber");
    expect((await history.changes({ fromLsn: 1 })).changes).toHaveLength(12);
    // Nothing more is attempted while parked.
    const arrivals = (await s.mirror.dump()).arrivals.length;
    await source.add(13, "n13", 13, "s");
    await sleep(300);
    expect((await s.mirror.dump()).arrivals.length).toBe(arrivals);
    expect((await source.stats()).forwards[0].state).toBe("parked");
    // Fixed target, resume: everything once, in order.
    await s.mirror.configure({ failBefore: 0 });
    const resumed = await source.resumeForward("mirror");
    expect(resumed.state).toBe("active");
    await until(async () => (await source.stats()).forwards[0].pending === 0, "resumed delivery");
    await mirrored(source, s.mirror, name, "resumed");
    await exactlyOnce(s.mirror, name, "mirror", await exportedLsns(source));
    // Now retention may prune (every forward acknowledged), keeping the newest transaction.
    await until(
      async () => (await source.stats()).forwards.every((f) => f.pending === 0),
      "all acknowledged",
    );
    const after = await history.prune();
    expect(after.pruned).toBeGreaterThan(0);
    expect(after.floorLsn).toBeGreaterThan(1);
  });

  it("ctx.abort() in the middle of a batch: nothing lost, nothing applied twice", async () => {
    const { name, source } = freshSource("abort");
    const { mirror } = sinks(name);
    await mirror.configure({ delayMs: 400 });
    await source.addMany(
      Array.from({ length: 15 }, (_, i) => ({ id: i, name: `n${i}`, qty: i, secret: "s" })),
    );
    for (let i = 15; i < 25; i++) await source.add(i, `n${i}`, i, "s");
    // A batch is in flight (arrived, stalled before applying): reset the source now.
    await until(async () => (await mirror.dump()).arrivals.length > 0, "a batch in flight");
    expect(await codeOf(source.abortNow())).toBeDefined();
    await mirror.configure({ delayMs: 0 });
    // A new stub (the old one is broken by the reset); its first call wakes the actor, which
    // re-arms the schedule: the interrupted delivery runs again.
    const again = env.FORWARD_SOURCE.getByName(name);
    await until(async () => (await again.stats()).forwards[0].pending === 0, "delivery after the abort");
    await mirrored(again, mirror, name, "mirror after abort");
    const dump = await mirror.dump();
    const batches = new Set(dump.arrivals.map((a) => `${JSON.parse(a).from}-${JSON.parse(a).to}`));
    expect(dump.arrivals.length).toBeGreaterThan(batches.size); // the aborted batch came again
    await exactlyOnce(mirror, name, "mirror", await exportedLsns(again));
  });

  it("evictions of the source and of the receiver between writes: nothing lost, nothing applied twice", async () => {
    const { name, source } = freshSource("evict");
    const { mirror } = sinks(name);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 7; i++) await source.add(round * 10 + i, `n${i}`, i, "s");
      if (round % 2 === 1) await source.setQty(round * 10, 99);
      // Evict while a delivery may be due or running (eviction waits for a running one to drain).
      await evictWhenIdle(source);
      if (round % 2 === 0) await evictWhenIdle(mirror);
    }
    await until(async () => (await source.pending("mirror")) === 0, "delivery after evictions");
    // The acknowledged LSN survives an eviction (state is durable): nothing is sent again.
    await evictWhenIdle(source);
    expect(await source.pending("mirror")).toBe(0);
    await mirrored(source, mirror, name, "mirror after evictions");
    await exactlyOnce(mirror, name, "mirror", await exportedLsns(source));
  });
});

/**
 * evictDurableObject, tried again while the object still has a request in flight. (An RPC result
 * that is an object, held by the test, also counts as an active reference until it is collected:
 * call only methods answering primitives before evicting.)
 */
async function evictWhenIdle(stub: DurableObjectStub): Promise<void> {
  for (let i = 0; i < 20; i++) {
    try {
      await evictDurableObject(stub);
      return;
    } catch (err) {
      if (!String(err).includes("active references") && !String(err).includes("not currently running"))
        throw err;
      if (String(err).includes("not currently running")) return;
      await sleep(50);
    }
  }
}

describe("forward: applyOnce on the receiving side", () => {
  it("applies once, skips a redelivery, applies only the new part of an overlapping batch", async () => {
    const sink = env.FORWARD_SINK.getByName(`apply-${Date.now()}`);
    expect(await sink.applyRaw(itemsBatch())).toEqual({ applied: true, changes: 3, appliedLsn: 3 });
    expect(await sink.applyRaw(itemsBatch())).toEqual({ applied: false, changes: 0, appliedLsn: 3 });
    const wider = itemsBatch({ to: 4 });
    wider.changes.push({ ...wider.changes[0], lsn: 4, key: { id: 4 }, after: { id: 4, name: "n4", qty: 4 } });
    expect(await sink.applyRaw(wider)).toEqual({ applied: true, changes: 1, appliedLsn: 4 });
    expect((await sink.dump()).received.map((r) => r.lsn)).toEqual([1, 2, 3, 4]);
    expect(await sink.applied("src", "f")).toBe(4);
    expect(await sink.applied("src", "other")).toBe(0);
  });

  it("refuses a batch that arrived before an earlier one (FORWARD_GAP), and bad batches (VALIDATION_FAILED)", async () => {
    const sink = env.FORWARD_SINK.getByName(`gap-${Date.now()}`);
    const later = itemsBatch({ after: 3, from: 4, to: 4, changes: [] });
    const gap = await codeOf(sink.applyRaw(later));
    expect(gap?.code).toBe("FORWARD_GAP");
    expect(gap?.status).toBe(409);
    expect((await sink.dump()).received).toEqual([]);
    await sink.applyRaw(itemsBatch());
    expect((await sink.applyRaw(later)).appliedLsn).toBe(4);
    for (const bad of [
      null,
      "x",
      itemsBatch({ source: "" }),
      itemsBatch({ forward: "no spaces allowed" }),
      itemsBatch({ from: 3, to: 2 }),
      itemsBatch({ after: 3 }),
      itemsBatch({ changes: "no" as never }),
      itemsBatch({ changes: [{ lsn: 9 } as never] }),
      itemsBatch({ changes: [...itemsBatch().changes].reverse() }),
      itemsBatch({ changes: [{ ...itemsBatch().changes[0], op: "upsert" as never }] }),
    ]) {
      const err = await codeOf(sink.applyRaw(bad));
      expect(err?.code).toBe("VALIDATION_FAILED");
    }
    expect(await sink.applied("src", "f")).toBe(4);
  });
});

describe("forward: configuration and methods", () => {
  it("forward([...]) refuses bad config with INVALID_CONFIG", () => {
    const to = { queue: "Q" };
    const bad: unknown[] = [
      [],
      [{ name: "", tables: ["t"], to }],
      [{ name: "a b", tables: ["t"], to }],
      [{ name: "a", tables: [], to }],
      [{ name: "a", tables: ["t", "t"], to }],
      [{ name: "a", tables: ["t"], columns: { u: ["x"] }, to }],
      [{ name: "a", tables: ["t"], columns: { t: [] }, to }],
      [{ name: "a", tables: ["t"], to: {} }],
      [{ name: "a", tables: ["t"], to: { queue: "Q", call: "m" } }],
      [{ name: "a", tables: ["t"], to: { actor: "A", method: "m" } }],
      [{ name: "a", tables: ["t"], to, batch: { size: 0 } }],
      [{ name: "a", tables: ["t"], to, retry: { attempts: 0 } }],
      [{ name: "a", tables: ["t"], to, where: "x" }],
      [
        { name: "a", tables: ["t"], to },
        { name: "a", tables: ["u"], to },
      ],
    ];
    for (const specs of bad) {
      let code: string | undefined;
      try {
        forward(specs as never);
      } catch (err) {
        code = ActorError.from(err)?.code;
      }
      expect(code, JSON.stringify(specs)).toBe("INVALID_CONFIG");
    }
    let code: string | undefined;
    try {
      defineActor({ schema: {}, forward: forward([{ name: "a", tables: ["t"], to }]) });
    } catch (err) {
      code = ActorError.from(err)?.code;
    }
    expect(code).toBe("INVALID_CONFIG"); // forward needs history
  });

  it("a forward whose columns leave out the primary key: every call answers INVALID_CONFIG", async () => {
    const err = await codeOf(env.BAD_FORWARD.getByName(`bad-${Date.now()}`).ping());
    expect(err?.code).toBe("INVALID_CONFIG");
    expect(err?.description).toContain("primary key");
  });

  it("flushForward delivers now; unknown forwards and actors without forwards answer typed errors", async () => {
    const { name, source } = freshSource("flush");
    await source.add(1, "a", 1, "s");
    const statuses = await source.flushForward("mirror");
    expect(statuses[0].pending).toBe(0);
    expect((await sinks(name).mirror.dump()).mirror).toHaveLength(1);
    expect((await codeOf(source.flushForward("nope")))?.code).toBe("FORWARD_NOT_FOUND");
    expect((await codeOf(source.resumeForward(42 as never)))?.code).toBe("FORWARD_NOT_FOUND");
    expect((await codeOf(env.FORWARD_SINK.getByName("no-forwards").flushForward()))?.code).toBe(
      "FORWARD_DISABLED",
    );
  });
});

describe("history.subscribe(fromLsn)", () => {
  it("yields what is held, then each new change as it commits", async () => {
    const { source } = freshSource("stream");
    await source.add(1, "a", 1, "s");
    await source.addSecret(1, "not items");
    const reading = source.readStream(1, 3);
    await sleep(50);
    await source.add(2, "b", 2, "s");
    await source.setQty(1, 5);
    const lsns = await reading;
    expect(lsns).toEqual([1, 3, 4]);
    expect((await codeOf(source.readStream(0, 1)))?.code).toBe("VALIDATION_FAILED");
  });
});
