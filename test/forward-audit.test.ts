import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ForwardBatch } from "../src/forward/index";
import { spareForward } from "./fixtures/forward-actors";
import { exactlyOnce, exportedLsns, freshSource, mirrored, sinks, sleep, until } from "./forward-helpers";
import { codeOf } from "./history-helpers";

describe("forward audit: queue messages", () => {
  it("text beyond Latin-1 (two bytes a character in a v8 message) still fits the queue's 128 KB", async () => {
    const { name, source } = freshSource("wide-text");
    // 20 rows of 4,000 CJK characters: about 82,000 characters of JSON, one batch under the
    // ~100 KB budget by length, but about 160 KB as a v8 message (each character takes 2 bytes).
    await source.addMany(
      Array.from({ length: 20 }, (_, i) => ({
        id: i,
        name: `${i}${"数".repeat(4000)}`,
        qty: i,
        secret: "s",
      })),
    );
    const s = sinks(name);
    await until(async () => {
      const queue = (await source.stats()).forwards.find((f) => f.name === "queue");
      return queue?.state === "parked" || queue?.pending === 0;
    }, "the queue forward to deliver or park");
    const queue = (await source.stats()).forwards.find((f) => f.name === "queue");
    expect(queue?.lastError ?? null).toBeNull();
    expect(queue?.state).toBe("active");
    await mirrored(source, s.queue, name, "queue target");
    await exactlyOnce(s.queue, name, "queue", await exportedLsns(source));
  });
});

describe("forward audit: the durable promise of a delivery", () => {
  it("a resumed forward reset mid-delivery delivers on its own (the schedule, not the next call, takes it up)", async () => {
    const { name, source } = freshSource("resume-crash");
    const s = sinks(name);
    await s.mirror.configure({ failBefore: 1000 });
    for (let i = 1; i <= 3; i++) await source.add(i, `n${i}`, i, "s");
    await until(async () => (await source.stats()).forwards[0].state === "parked", "parked");
    // The other forwards are done: nothing else of this actor is scheduled soon (retention is hourly).
    await until(
      async () => (await source.stats()).forwards.slice(1).every((f) => f.pending === 0),
      "queue and webhook acknowledged",
    );
    // The resumed delivery's batch stalls at the sink, then is refused; the source is reset meanwhile.
    await s.mirror.configure({ failBefore: 1, delayMs: 300 });
    const arrivals = (await s.mirror.dump()).arrivals.length;
    await codeOf(source.resumeAndCrash("mirror"));
    await until(
      async () => (await s.mirror.dump()).arrivals.length > arrivals,
      "the resumed batch in flight",
    );
    await s.mirror.configure({ delayMs: 0 });
    // No call to the source from here on: only its schedule (an alarm) can deliver.
    await until(async () => (await s.mirror.dump()).mirror.length === 3, "delivery after the reset", 10_000);
    const again = env.FORWARD_SOURCE.getByName(name); // the old stub is broken by the reset
    await mirrored(again, s.mirror, name, "mirror");
    await exactlyOnce(s.mirror, name, "mirror", await exportedLsns(again));
  });
});

describe("forward audit: concurrency and redelivery (invariants hold)", () => {
  it("many flushForward calls at once, among concurrent writes: every change once, in order, at every target", async () => {
    const { name, source } = freshSource("flushes");
    const writes = Array.from({ length: 30 }, (_, i) =>
      i % 5 === 0
        ? source.addMany([0, 1, 2].map((k) => ({ id: 100 + i * 3 + k, name: `t${i}`, qty: k, secret: "s" })))
        : source.add(i, `n${i}`, i, "s"),
    );
    const flushes = Array.from({ length: 12 }, (_, i) =>
      source.flushForward(i % 3 === 0 ? undefined : ["mirror", "queue", "webhook"][i % 3]),
    );
    await Promise.all([...writes, ...flushes]);
    await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? source.setQty(i, 50) : source.remove(i))));
    await Promise.all([source.flushForward(), source.flushForward(), source.flushForward("mirror")]);
    const s = sinks(name);
    await mirrored(source, s.mirror, name, "mirror");
    await mirrored(source, s.queue, name, "queue");
    await until(async () => (await source.stats()).forwards.every((f) => f.pending === 0), "acknowledged");
    const lsns = await exportedLsns(source);
    await exactlyOnce(s.mirror, name, "mirror", lsns);
    await exactlyOnce(s.queue, name, "queue", lsns);
    await exactlyOnce(s.webhook, name, "webhook", lsns);
    // One run at a time per forward: over RPC, each batch sent starts where the one before ended
    // (a second run at once would send a batch again, which applyOnce alone would hide).
    for (const sink of [s.mirror, s.webhook]) {
      const sent = (await sink.dump()).arrivals.map((a) => JSON.parse(a) as ForwardBatch);
      sent.forEach((b, i) => {
        expect(b.after).toBe(i === 0 ? 0 : sent[i - 1].to);
        expect(b.from).toBe(i === 0 ? 1 : sent[i - 1].to + 1);
      });
    }
  });

  it("a queue consumer that fails before and after applying: redelivered and out-of-order batches apply once", async () => {
    const { name, source } = freshSource("queue-retry");
    const s = sinks(name);
    await s.queue.configure({ failBefore: 3, failAfter: 3 });
    // Many small transactions: several batches of the queue forward (25 changes each).
    for (let i = 0; i < 80; i++) await source.add(i, `n${i}`, i, "s");
    await Promise.all(Array.from({ length: 20 }, (_, i) => source.setQty(i, i + 1000)));
    await mirrored(source, s.queue, name, "queue target after failures");
    // Every refused or unanswered batch comes again (a failure after applying may come after the mirror is whole).
    await until(async () => {
      const { arrivals } = await s.queue.dump();
      const batches = new Set(arrivals.map((a) => `${JSON.parse(a).from}-${JSON.parse(a).to}`));
      return arrivals.length >= batches.size + 6;
    }, "six redeliveries");
    await exactlyOnce(s.queue, name, "queue", await exportedLsns(source));
  });
});

describe("forward audit: a target that never answers", () => {
  it("an attempt that timed out but lands later (after its retry applied) changes nothing", async () => {
    const { name, source } = freshSource("late");
    const { mirror } = sinks(name);
    await mirror.configure({ delayMs: 1_600 }); // past the mirror's 1 s timeout, then applied
    await source.add(1, "a", 1, "s");
    await until(async () => (await mirror.dump()).arrivals.length > 0, "the first attempt in flight");
    await sleep(1_100); // timed out: the forward backs off and sends again
    await mirror.configure({ delayMs: 0 });
    await source.add(2, "b", 2, "s");
    await until(async () => (await source.pending("mirror")) === 0, "acknowledged");
    await sleep(800); // the first attempt lands now
    const dump = await mirror.dump();
    expect(dump.arrivals.length).toBeGreaterThanOrEqual(2);
    await mirrored(source, mirror, name, "mirror");
    await exactlyOnce(mirror, name, "mirror", await exportedLsns(source));
  });

  it("a delivery that hangs times out and is sent again: delivered once in effect", async () => {
    const { name, source } = freshSource("hang");
    const { mirror } = sinks(name);
    await mirror.configure({ delayMs: 100_000_000 }); // the first attempt never answers
    await source.add(1, "a", 1, "s");
    await until(async () => (await mirror.dump()).arrivals.length > 0, "the first attempt in flight");
    await mirror.configure({ delayMs: 0 });
    await source.add(2, "b", 2, "s");
    await until(
      async () => (await mirror.dump()).mirror.length === 2,
      "delivery past the hung attempt",
      10_000,
    );
    await until(async () => (await source.pending("mirror")) === 0, "acknowledged");
    await mirrored(source, mirror, name, "mirror");
    await exactlyOnce(mirror, name, "mirror", await exportedLsns(source));
  });
});

describe("forward audit: a restore from backup under a forward", () => {
  it("restoring a backup taken while the forward was parked leaves it active (its state is not the backup's)", async () => {
    const name = `restore-parked-${Date.now()}`;
    const source = env.BACKED_UP_FORWARD.getByName(name);
    const { mirror } = sinks(name);
    await mirror.configure({ failBefore: 1000 });
    for (let i = 1; i <= 3; i++) await source.add(i, `n${i}`, i, "s");
    await until(async () => (await source.stats()).forwards[0].state === "parked", "parked");
    const { key } = await runInDurableObject(source, (a) => a.tiering.backup());
    // The target is fixed and the forward resumed; then more is written and delivered.
    await mirror.configure({ failBefore: 0 });
    await source.resumeForward("mirror");
    await source.add(4, "n4", 4, "s");
    await until(async () => (await source.pending("mirror")) === 0, "delivered after the resume");
    await runInDurableObject(source, (a) => a.tiering.restoreFromBackup(key));
    expect((await source.items()).map((r) => r.id)).toEqual([1, 2, 3]);
    const [status] = await source.flushForward("mirror");
    expect(status.state).toBe("active");
    expect(status.delivered.changes).toBeGreaterThanOrEqual(4);
    await source.add(5, "n5", 5, "s");
    await mirrored(source, mirror, name, "after the restore");
    await exactlyOnce(mirror, name, "mirror", await exportedLsns(source));
  });

  it("the restore's changes are delivered by themselves, as any write's (no later write needed)", async () => {
    const name = `restore-sent-${Date.now()}`;
    const source = env.BACKED_UP_FORWARD.getByName(name);
    const { mirror } = sinks(name);
    for (let i = 1; i <= 3; i++) await source.add(i, `n${i}`, i, "s");
    const { key } = await runInDurableObject(source, (a) => a.tiering.backup());
    await source.add(4, "n4", 4, "s");
    await source.setQty(1, 10);
    await until(async () => (await mirror.dump()).mirror.length === 4, "delivered before the restore");
    await runInDurableObject(source, (a) => a.tiering.restoreFromBackup(key));
    // Row 4 goes and row 1 gets its quantity back: the forward sends the restore's transaction.
    await mirrored(source, mirror, name, "the restore delivered", 5_000);
    await exactlyOnce(mirror, name, "mirror", await exportedLsns(source));
  });
});

describe("forward audit: a forward removed from the config", () => {
  it("is forgotten whole on the next wake: subscriber, state and its scheduled delivery", async () => {
    const name = `removed-${Date.now()}`;
    const source = env.RECONFIGURED_FORWARD.getByName(name);
    await env.FORWARD_SINK.getByName(`spare-${name}`).configure({ failBefore: 1000 });
    await source.add(1, "a", 1, "s");
    // `spare` fails and waits a minute before its next attempt.
    await until(async () => (await source.stats()).forwards[1].failures > 0, "spare failing");
    expect(await runInDurableObject(source, (a) => a.schedule.get("dosql:forward:spare"))).toBeDefined();
    // A deploy without `spare`.
    spareForward.current = false;
    try {
      await evictDurableObject(source);
      expect((await source.stats()).forwards.map((f) => f.name)).toEqual(["mirror"]);
      const history = await source.history;
      expect((await history.subscribers()).map((s) => s.id)).toEqual(["forward:mirror"]);
      // No task is left to run a forward that no longer exists (it would fail FORWARD_NOT_FOUND).
      expect(await runInDurableObject(source, (a) => a.schedule.get("dosql:forward:spare"))).toBeUndefined();
    } finally {
      spareForward.current = true;
    }
  });
});
