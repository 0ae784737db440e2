import { describe, expect, it } from "vitest";
import { exactlyOnce, exportedLsns, freshSource, mirrored, sinks, until } from "./forward-helpers";

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
