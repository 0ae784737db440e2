// Defects found by an audit of RegionalAnalytics and GlobalAnalytics: each test failed before its fix.
import { describe, expect, it } from "vitest";
import { errorOf, event, fresh, region } from "./analytics-helpers";

const DAY = 86_400_000;
const today = () => new Date().toISOString().slice(0, 10);
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const daysAgo = (n: number) => Date.now() - n * DAY;
const total = (h: { totals: { totalEvents: number }[] }) => h.totals.reduce((n, t) => n + t.totalEvents, 0);

describe("RegionalAnalytics: archived days are closed", () => {
  it("archiveDaily refuses days a late event can still change, so historical never counts a day twice", async () => {
    const r = region(fresh("closed"));
    const events = [0, 1, 2].map((i) => event({ sessionId: `s${i}`, timestamp: daysAgo(2) + i * 1000 }));
    await r.ingest(events);
    await r.rollup();
    const range = { start: dayOf(daysAgo(6)), end: today() };
    expect(total(await r.historical(range))).toBe(3);

    const refused = await errorOf(r.archiveDaily({ before: today() }));
    expect(refused).toMatchObject({ code: "VALIDATION_FAILED" });
    expect(refused.message).toMatch(/late window/);

    // A late event for that day (inside the 7-day late window) is recomputed into the hot row.
    await r.ingest(event({ sessionId: "late", timestamp: daysAgo(2) + 5000 }));
    await r.rollup();
    expect(total(await r.historical(range))).toBe(4);
  });
});
