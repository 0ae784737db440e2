// RegionalAnalytics → GlobalAnalytics: rollups by schedule and by the admin route, forwarded with
// the allowlist (no PII ever reaches the global actor), applied once, retention, archive and history.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RegionalAnalytics } from "../actors/index";
import { dumpAll, event, fresh, globalActor, makeDue, open, region, rows } from "./analytics-helpers";

const DAY = 86_400_000;
const today = () => new Date().toISOString().slice(0, 10);
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** `n` days before now. */
const daysAgo = (n: number) => Date.now() - n * DAY;

/** The global figures of one region for one event type (every day). */
async function globalOf(name: string, eventType: string) {
  const m = await globalActor().metrics({ from: dayOf(daysAgo(10)), to: today(), eventType });
  return m.days.filter((d) => d.regions[name]).map((d) => ({ date: d.date, ...d.regions[name] }));
}

describe("RegionalAnalytics → GlobalAnalytics", () => {
  it("the schedule rolls up and forwards (real alarm): exact per-day figures arrive", async () => {
    const name = fresh("sched");
    const r = region(name);
    const type = fresh("sched-type");
    await r.ingest([
      event({ eventType: type, sessionId: "a", userId: "u1" }),
      event({ eventType: type, sessionId: "a", userId: "u1" }),
      event({ eventType: type, sessionId: "b", userId: "u2" }),
      event({ eventType: type, sessionId: "c" }),
    ]);
    const keys = await runInDurableObject(r, (a: RegionalAnalytics) => a.schedule.list().map((s) => s.key));
    expect(keys).toEqual(expect.arrayContaining(["analytics:sync", "analytics:prune"]));
    expect(await globalOf(name, type)).toEqual([]);
    await makeDue(r, "analytics:sync");
    expect(await runDurableObjectAlarm(r)).toBe(true);
    expect(await globalOf(name, type)).toEqual([
      { date: today(), totalEvents: 4, uniqueSessions: 3, uniqueUsers: 2 },
    ]);
    const daily = await rows(
      r,
      "SELECT event_type, total_events, unique_sessions, unique_users FROM daily_aggregates",
    );
    expect(daily).toEqual([{ event_type: type, total_events: 4, unique_sessions: 3, unique_users: 2 }]);
  });

  it("a forward parked by an outage of GlobalAnalytics is taken back into service by the hourly sync", async () => {
    const name = fresh("parked");
    const r = region(name);
    const type = fresh("parked-type");
    await r.ingest([event({ eventType: type, sessionId: "a" }), event({ eventType: type, sessionId: "b" })]);
    // The state 8 failed deliveries in a row leave (src/forward/delivery.ts), written as they write it.
    await runInDurableObject(r, (_, state) => {
      state.storage.sql.exec(
        "UPDATE _dosql_forwards SET state = 'parked', failures = 8, last_error = 'GlobalAnalytics was down', parked_at = ? WHERE name = 'global'",
        Date.now(),
      );
    });
    expect((await r.flushForward("global"))[0]).toMatchObject({ state: "parked" });
    expect(await globalOf(name, type)).toEqual([]);
    await makeDue(r, "analytics:sync");
    expect(await runDurableObjectAlarm(r)).toBe(true);
    expect(await globalOf(name, type)).toEqual([
      { date: today(), totalEvents: 2, uniqueSessions: 2, uniqueUsers: 0 },
    ]);
    expect((await r.flushForward("global"))[0]).toMatchObject({ state: "active", failures: 0, pending: 0 });
  });

  it("the admin route syncs now; repeated and concurrent syncs and a redelivered batch never double count", async () => {
    // The coordinator's regions are us, eu, apac: this test writes "us" with its own event type.
    const type = fresh("route-type");
    const ingest = (body: unknown) =>
      fetchJson("/analytics/us/ingest", { method: "POST", body: JSON.stringify(body) });
    expect(
      (await ingest([event({ eventType: type, userId: "u1" }), event({ eventType: type, sessionId: "s2" })]))
        .status,
    ).toBe(200);
    const sync = () => fetchJson("/admin/analytics/us/sync", { method: "POST", body: "{}" });
    const first = await sync();
    expect(first.status).toBe(200);
    expect(first.body.region).toBe("us");
    expect(first.body.forward[0]).toMatchObject({ name: "global", state: "active", pending: 0 });
    const metrics = async () =>
      (await fetchJson(`/analytics/global/metrics?event_type=${type}`)).body as {
        regions: Record<string, unknown>;
        total: unknown;
        days: { regionsReporting: number }[];
      };
    const want = { totalEvents: 2, uniqueSessions: 2, uniqueUsers: 1 };
    expect((await metrics()).regions).toEqual({ us: want });
    await Promise.all([sync(), sync(), sync()]);
    await sync();
    expect((await metrics()).regions).toEqual({ us: want });
    expect((await metrics()).total).toEqual(want);
    // More events: the day's row is updated, not added to.
    await ingest([event({ eventType: type, sessionId: "s3", userId: "u1" })]);
    await Promise.all([sync(), sync()]);
    expect((await metrics()).regions).toEqual({ us: { totalEvents: 3, uniqueSessions: 3, uniqueUsers: 1 } });

    // The same batch delivered twice (a retry whose answer was lost): applied once.
    const g = globalActor();
    const batch = {
      source: fresh("replay"),
      forward: "global",
      after: 0,
      from: 1,
      to: 1,
      changes: [
        {
          lsn: 1,
          tx: 1,
          at: Date.now(),
          table: "region_rollups",
          op: "insert" as const,
          key: { date: today(), event_type: type },
          before: null,
          after: { date: today(), event_type: type, total_events: 5, unique_sessions: 4, unique_users: 3 },
        },
      ],
    };
    expect((await g.applyRollups(batch)).applied).toBe(true);
    expect((await g.applyRollups(batch)).applied).toBe(false);
    expect((await metrics()).total).toEqual({ totalEvents: 8, uniqueSessions: 7, uniqueUsers: 4 });
    expect((await metrics()).days[0].regionsReporting).toBe(2);
  });

  it("GlobalAnalytics refuses a batch that is not region rollups, whole, and reads only the five columns", async () => {
    const g = globalActor();
    const source = fresh("bad-batch");
    const type = fresh("bad-type");
    const change = (lsn: number, table: string, after: Record<string, unknown>) => ({
      lsn,
      tx: lsn,
      at: Date.now(),
      table,
      op: "insert" as const,
      key: { date: today(), event_type: type },
      before: null,
      after,
    });
    const good = { date: today(), event_type: type, total_events: 1, unique_sessions: 1, unique_users: 0 };
    const batch = (changes: ReturnType<typeof change>[]) => ({
      source,
      forward: "global",
      after: 0,
      from: 1,
      to: 2,
      changes,
    });
    for (const bad of [
      batch([change(1, "region_rollups", good), change(2, "raw_events", { user_id: "PII" })]),
      batch([change(1, "region_rollups", good), change(2, "region_rollups", { ...good, total_events: -1 })]),
      batch([change(1, "region_rollups", { ...good, date: "yesterday" })]),
      { ...batch([]), source: "" },
      "nope",
    ]) {
      const code = await g.applyRollups(bad as never).then(
        () => "applied",
        (e: { message: string }) =>
          e.message.includes("VALIDATION_FAILED") ? "VALIDATION_FAILED" : e.message,
      );
      expect(code).toBe("VALIDATION_FAILED");
    }
    expect(await globalOf(source, type)).toEqual([]);
    // Extra columns in a change are never read or stored.
    await g.applyRollups(
      batch([
        change(1, "region_rollups", { ...good, user_hash: "PII-HASH" }),
        change(2, "region_rollups", good),
      ]) as never,
    );
    expect(await globalOf(source, type)).toEqual([
      { date: today(), totalEvents: 1, uniqueSessions: 1, uniqueUsers: 0 },
    ]);
    expect(JSON.stringify(await dumpAll(g))).not.toContain("PII-HASH");
  });

  it("no PII ever reaches GlobalAnalytics: every table it holds, whatever is ingested", async () => {
    const name = fresh("pii");
    const r = region(name);
    const type = fresh("pii-type");
    const secrets = {
      user: "PII-USER-alice@example.com",
      session: "PII-SESSION-42",
      ip: "203.0.113.99",
      agent: "PII-AGENT/1.0",
      url: "https://x.test/PII-PATH/account?email=PII-EMAIL%40example.com",
      referrer: "https://PII-REFERRER.test/",
      prop: "PII-PROPERTY",
    };
    await r.ingest([
      event({
        eventType: type,
        sessionId: secrets.session,
        userId: secrets.user,
        ipAddress: secrets.ip,
        userAgent: secrets.agent,
        pageUrl: secrets.url,
        referrer: secrets.referrer,
        properties: { note: secrets.prop, nested: { ip: secrets.ip } },
      }),
      event({
        eventType: type,
        sessionId: `${secrets.session}-b`,
        userId: `${secrets.user}-b`,
        ipAddress: "2001:db8::1",
      }),
    ]);
    await r.sync();
    // Later changes of the rollups (an update) cross too: still nothing but aggregates.
    await r.ingest(event({ eventType: type, sessionId: `${secrets.session}-c`, userId: secrets.user }));
    await r.sync();
    expect(await globalOf(name, type)).toEqual([
      { date: today(), totalEvents: 3, uniqueSessions: 3, uniqueUsers: 2 },
    ]);

    const hashes = (await rows<{ user_hash: string }>(r, "SELECT DISTINCT user_hash FROM raw_events")).map(
      (h) => h.user_hash,
    );
    expect(hashes).toHaveLength(2);
    const everything = JSON.stringify(await dumpAll(globalActor()));
    for (const value of [
      ...Object.values(secrets),
      ...hashes,
      "PII-",
      "2001:db8",
      "/account",
      "user_hash",
      "ip_address",
    ])
      expect(everything).not.toContain(value);
    // The global tables hold only these columns.
    const g = await dumpAll(globalActor());
    for (const row of g.regional_rollups)
      expect(Object.keys(row).sort()).toEqual(
        [
          "date",
          "event_type",
          "received_at",
          "region",
          "source_lsn",
          "total_events",
          "unique_sessions",
          "unique_users",
        ].sort(),
      );
    expect(Object.keys(g).sort()).toEqual(expect.arrayContaining(["regional_rollups", "_dosql_applied"]));
    // What the forward exports is the allowlist, from history that captures region_rollups only.
    const exported = await runInDurableObject(r, async (a: RegionalAnalytics) => {
      const page = a.history.changes({ fromLsn: 1, limit: 1000 });
      return page.changes.map((c) => c.table);
    });
    expect(new Set(exported)).toEqual(new Set(["region_rollups"]));
  });

  it("retention: raw events and minute buckets past it and idle sessions are pruned; daily figures stay", async () => {
    const r = region(fresh("prune"));
    const type = fresh("prune-type");
    const old = daysAgo(3);
    await r.ingest([
      event({ eventType: type, sessionId: "old", userId: "u-old", timestamp: old }),
      event({ eventType: type, sessionId: "idle", timestamp: Date.now() - 40 * 60_000 }),
      event({ eventType: type, sessionId: "now" }),
    ]);
    const result = await r.prune({ retentionDays: 1 });
    expect(result).toMatchObject({ rawEvents: 1, minuteAggregates: 1, sessions: 2 });
    expect(result.cutoff).toBe(Date.parse(`${dayOf(daysAgo(1))}T00:00:00Z`));
    expect(await rows(r, "SELECT session_id FROM raw_events ORDER BY session_id")).toEqual([
      { session_id: "idle" },
      { session_id: "now" },
    ]);
    expect(await rows(r, "SELECT session_id FROM active_sessions")).toEqual([{ session_id: "now" }]);
    // The pruned buckets' counted sessions and users went with them.
    expect(
      await rows(
        r,
        `SELECT kind, member FROM minute_members WHERE event_type = '${type}' ORDER BY kind, member`,
      ),
    ).toEqual([
      { kind: "session", member: "idle" },
      { kind: "session", member: "now" },
    ]);
    // The pruned day's figures were rolled up before the prune, and are kept.
    expect(
      await rows(r, `SELECT date, total_events FROM daily_aggregates WHERE date = '${dayOf(old)}'`),
    ).toEqual([{ date: dayOf(old), total_events: 1 }]);
    // An event before the cutoff is refused now (its day could no longer be recomputed exactly).
    const refused = await r.ingest(event({ eventType: type, timestamp: old }), { partial: true });
    expect(refused.accepted).toBe(0);
    expect(refused.rejected[0].path).toBe("timestamp");
    expect((await r.realtime()).activeSessions).toBe(1);
  });

  it("historical over archived Parquet equals the figures before archiving", async () => {
    const name = fresh("archive");
    const r = region(name);
    const events = [];
    for (let d = 1; d <= 4; d++)
      for (let i = 0; i < 5 * d; i++)
        events.push(
          event({
            eventType: i % 2 ? "click" : "page_view",
            sessionId: `s${i % 3}`,
            userId: i % 4 ? `u${i % 2}` : undefined,
            pageUrl: `/p${i % 2}`,
            timestamp: daysAgo(d) + i * 1000,
          }),
        );
    await r.ingest(events);
    // Only days past the 7-day late window may be archived: age the events by 10 days (workerd has
    // no fake clock; the rows are what ingest wrote, moved back in time).
    await runInDurableObject(r, (a: RegionalAnalytics) =>
      a.query(
        "UPDATE raw_events SET timestamp = timestamp - ?, minute = strftime('%Y-%m-%dT%H:%M', (timestamp - ?) / 1000, 'unixepoch')",
        [10 * DAY, 10 * DAY],
      ),
    );
    await r.rollup();
    const start = dayOf(daysAgo(16));
    const end = today();
    const before = await r.historical({ start, end });
    expect(before.days.length).toBeGreaterThan(0);
    expect(before.totals.reduce((n, t) => n + t.totalEvents, 0)).toBe(events.length);
    const archived = await r.archiveDaily({ before: dayOf(daysAgo(8)) });
    expect(archived.done).toBe(true);
    expect(archived.rows).toBe(before.days.length);
    expect(await rows(r, "SELECT count(*) AS n FROM daily_aggregates")).toEqual([{ n: 0 }]);
    const keys = await runInDurableObject(r, (a: RegionalAnalytics) =>
      a.tiering.manifest("daily_aggregates").map((m) => m.key),
    );
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key.startsWith(`analytics/${name}/daily_aggregates/`)).toBe(true);
    expect(await r.historical({ start, end })).toEqual(before);
    // Filtered by event type and range, too.
    const clicks = await r.historical({ start: dayOf(daysAgo(12)), end, eventType: "click" });
    expect(clicks.days.every((d) => d.eventType === "click" && d.date >= dayOf(daysAgo(12)))).toBe(true);
    expect(clicks.days).toEqual(
      before.days.filter((d) => d.eventType === "click" && d.date >= dayOf(daysAgo(12))),
    );
  });
});

async function fetchJson(path: string, init: RequestInit = {}) {
  const res = await open(path, {
    ...init,
    headers: { "content-type": "application/json", ...(init.headers ?? {}) },
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}
