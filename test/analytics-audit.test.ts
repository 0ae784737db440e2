// Defects found by an audit of RegionalAnalytics and GlobalAnalytics: each test failed before its fix.
import { describe, expect, it } from "vitest";
import { errorOf, event, fresh, globalActor, region } from "./analytics-helpers";

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

describe("GlobalAnalytics: a region destroyed and written again", () => {
  const batch = (source: string, epoch: number, lsn: number, total: number) => ({
    source,
    forward: "global",
    epoch,
    after: 0,
    from: lsn,
    to: lsn,
    changes: [
      {
        lsn,
        tx: lsn,
        at: Date.now(),
        table: "region_rollups",
        op: "update" as const,
        key: { date: today(), event_type: "page_view" },
        before: null,
        after: {
          date: today(),
          event_type: "page_view",
          total_events: total,
          unique_sessions: 1,
          unique_users: 1,
        },
      },
    ],
  });

  it("takes the new region's figures although its LSNs started over (a later epoch), and ignores the old one's", async () => {
    const name = fresh("reborn");
    const g = globalActor();
    const totalOf = async () =>
      (await g.metrics({ from: today(), to: today(), eventType: "page_view" })).days[0]?.regions[name]
        ?.totalEvents;
    expect(await g.applyRollups(batch(name, 1000, 7, 70))).toMatchObject({ applied: true });
    expect(await totalOf()).toBe(70);
    // Recreated: LSN 1 again, a later epoch. Before epochs this was taken for a redelivery.
    expect(await g.applyRollups(batch(name, 2000, 1, 3))).toMatchObject({ applied: true, changes: 1 });
    expect(await totalOf()).toBe(3);
    // The old incarnation's batch arriving late changes nothing.
    expect(await g.applyRollups(batch(name, 1000, 8, 80))).toMatchObject({ applied: false });
    expect(await totalOf()).toBe(3);
  });
});
