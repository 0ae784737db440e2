import { describe, expect, it } from "vitest";
import { freshSource, sinks, until } from "./forward-helpers";

describe("forward: delivery", () => {
  it("delivers to another actor, to a queue and to user code", async () => {
    const { name, source } = freshSource("basic");
    await source.add(1, "a", 5, "TOPSECRET-1");
    await source.add(2, "b", 6, "TOPSECRET-2");
    await source.setQty(1, 7);
    await source.remove(2);
    const s = sinks(name);
    const expected = [{ source: name, id: 1, name: "a", qty: 7, extra: "[]" }];
    for (const sink of [s.mirror, s.queue, s.webhook])
      await until(async () => JSON.stringify((await sink.dump()).mirror) === JSON.stringify(expected), 20_000, "mirror");
    const stats = await source.stats();
    console.log(JSON.stringify(stats.forwards));
  });
});
