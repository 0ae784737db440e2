import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { exactlyOnce, exportedLsns, freshSource, mirrored, sinks, until } from "./forward-helpers";
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
