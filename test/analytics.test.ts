// RegionalAnalytics ingest and reads: exact figures (unique sessions and users once per bucket),
// batches, per-event validation with nothing written, salted stable hashing.
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RegionalAnalytics } from "../actors/index";
import { configuredSalt, UserHasher } from "../actors/regional-analytics/privacy";
import { errorOf, event, fresh, region, rows } from "./analytics-helpers";

const MINUTE = 60_000;
/** A moment in the middle of the current minute's predecessor, so a test's events share one bucket. */
const inMinute = (minutesAgo: number, second = 0) =>
  Math.floor(Date.now() / MINUTE) * MINUTE - minutesAgo * MINUTE + second * 1000;

describe("RegionalAnalytics: ingest and figures", () => {
  it("single events: minute buckets count each session and user once; query and realtime exact", async () => {
    const r = region(fresh("single"));
    const t = inMinute(1);
    const send = (over: Parameters<typeof event>[0]) => r.ingest(event({ timestamp: t, ...over }));
    // Bucket (page_view, /a): sessions s1 (3 events, user u1), s2 (1 event, user u2), s3 (anonymous).
    await send({ sessionId: "s1", userId: "u1", pageUrl: "https://x.test/a?q=1" });
    await send({ sessionId: "s1", userId: "u1", pageUrl: "https://x.test/a?q=2", timestamp: t + 5_000 });
    await send({ sessionId: "s1", userId: "u1", pageUrl: "/a#frag", timestamp: t + 9_000 });
    await send({ sessionId: "s2", userId: "u2", pageUrl: "https://x.test/a" });
    await send({ sessionId: "s3", pageUrl: "https://x.test/a" });
    // Another bucket: click on /b by s1 (u1) twice, and by s2 logged in as u1 (same user, other session).
    await send({ sessionId: "s1", userId: "u1", eventType: "click", pageUrl: "https://x.test/b" });
    await send({ sessionId: "s1", userId: "u1", eventType: "click", pageUrl: "https://x.test/b" });
    const last = await send({
      sessionId: "s2",
      userId: "u1",
      eventType: "click",
      pageUrl: "https://x.test/b",
    });
    expect(last).toEqual({ region: expect.any(String), accepted: 1, rejected: [] });

    const buckets = await rows(
      r,
      "SELECT event_type, page_path, event_count, unique_sessions, unique_users FROM minute_aggregates ORDER BY event_type, page_path",
    );
    expect(buckets).toEqual([
      { event_type: "click", page_path: "/b", event_count: 3, unique_sessions: 2, unique_users: 1 },
      { event_type: "page_view", page_path: "/a", event_count: 5, unique_sessions: 3, unique_users: 2 },
    ]);
    const q = await r.queryRange({ range: "hour" });
    expect(q.metrics).toEqual([
      { eventType: "page_view", totalEvents: 5, uniqueSessions: 3, uniqueUsers: 2 },
      { eventType: "click", totalEvents: 3, uniqueSessions: 2, uniqueUsers: 1 },
    ]);
    expect(q.totals).toEqual({ totalEvents: 8, uniqueSessions: 3, uniqueUsers: 2 });
    expect((await r.queryRange({ range: "day", eventType: "click" })).metrics).toEqual([
      { eventType: "click", totalEvents: 3, uniqueSessions: 2, uniqueUsers: 1 },
    ]);
    const rt = await r.realtime();
    expect(rt.activeSessions).toBe(3);
    expect(
      rt.recentMetrics.map((m) => [m.eventType, m.pagePath, m.eventCount, m.uniqueSessions, m.uniqueUsers]),
    ).toEqual([
      ["page_view", "/a", 5, 3, 2],
      ["click", "/b", 3, 2, 1],
    ]);
    // Paths never keep their query string; the raw event keeps the URL as sent.
    const raw = await rows<{ page_url: string; page_path: string }>(
      r,
      "SELECT page_url, page_path FROM raw_events ORDER BY id",
    );
    expect(raw.slice(0, 3)).toEqual([
      { page_url: "https://x.test/a?q=1", page_path: "/a" },
      { page_url: "https://x.test/a?q=2", page_path: "/a" },
      { page_url: "/a#frag", page_path: "/a" },
    ]);
    const sessions = await rows(
      r,
      "SELECT session_id, event_count, pages_viewed FROM active_sessions ORDER BY session_id",
    );
    expect(sessions).toEqual([
      { session_id: "s1", event_count: 5, pages_viewed: 3 },
      { session_id: "s2", event_count: 2, pages_viewed: 1 },
      { session_id: "s3", event_count: 1, pages_viewed: 1 },
    ]);
  });

  it("a batch of 1,000 in one call: the same figures as computed here", async () => {
    const r = region(fresh("batch"));
    const t = inMinute(2);
    const batch = Array.from({ length: 1000 }, (_, i) =>
      event({
        sessionId: `s${i % 37}`,
        userId: i % 5 === 0 ? undefined : `u${i % 11}`,
        eventType: i % 3 === 0 ? "click" : "page_view",
        pageUrl: `https://x.test/p${i % 4}?i=${i}`,
        timestamp: t + (i % 60) * 1000,
        ipAddress: "198.51.100.7",
        properties: { i },
      }),
    );
    expect(await r.ingest(batch)).toMatchObject({ accepted: 1000, rejected: [] });
    const want = new Map<string, { n: number; s: Set<string>; u: Set<string> }>();
    for (const e of batch) {
      const key = `${e.eventType} /p${(e.pageUrl as string).match(/p(\d)/)![1]}`;
      const b = want.get(key) ?? { n: 0, s: new Set(), u: new Set() };
      b.n++;
      b.s.add(e.sessionId);
      if (e.userId) b.u.add(e.userId);
      want.set(key, b);
    }
    const got = await rows<{ k: string; n: number; s: number; u: number }>(
      r,
      "SELECT event_type || ' ' || page_path AS k, event_count AS n, unique_sessions AS s, unique_users AS u FROM minute_aggregates ORDER BY k",
    );
    expect(got).toEqual(
      [...want.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, b]) => ({ k, n: b.n, s: b.s.size, u: b.u.size })),
    );
    const q = await r.queryRange({ range: "hour" });
    const clicks = batch.filter((e) => e.eventType === "click");
    expect(q.metrics.find((m) => m.eventType === "click")).toEqual({
      eventType: "click",
      totalEvents: clicks.length,
      uniqueSessions: new Set(clicks.map((e) => e.sessionId)).size,
      uniqueUsers: new Set(clicks.filter((e) => e.userId).map((e) => e.userId)).size,
    });
    expect(q.totals).toEqual({ totalEvents: 1000, uniqueSessions: 37, uniqueUsers: 11 });
    expect(
      await codeOfIngest(
        r,
        Array.from({ length: 1001 }, () => event()),
      ),
    ).toBe("VALIDATION_FAILED");
  });

  it("bad events are reported by index and nothing of the batch is written; partial keeps the valid ones", async () => {
    const r = region(fresh("invalid"));
    const good = event({ sessionId: "ok" });
    const batch = [
      good,
      event({ sessionId: "" }),
      good,
      event({ pageUrl: "javascript:alert(1)" }),
      event({ timestamp: Date.now() + 3_600_000 }),
      event({ timestamp: Date.now() - 8 * 86_400_000 }),
      event({ properties: { big: "x".repeat(70_000) } }),
      event({ ipAddress: "not-an-ip" }),
      { ...good, eventType: undefined } as never,
    ];
    const err = await errorOf(r.ingest(batch));
    expect(err.code).toBe("VALIDATION_FAILED");
    const errors = (err.details as { errors: { index: number; path: string }[] }).errors;
    expect(errors.map((e) => [e.index, e.path])).toEqual([
      [1, "sessionId"],
      [3, "pageUrl"],
      [4, "timestamp"],
      [5, "timestamp"],
      [6, "properties"],
      [7, "ipAddress"],
      [8, "eventType"],
    ]);
    const counts = async () =>
      rows(
        r,
        `SELECT (SELECT count(*) FROM raw_events) AS raw, (SELECT count(*) FROM minute_aggregates) AS buckets,
          (SELECT count(*) FROM active_sessions) AS sessions`,
      );
    expect(await counts()).toEqual([{ raw: 0, buckets: 0, sessions: 0 }]);
    // A single bad event too, and input that is not an event at all.
    expect((await errorOf(r.ingest(event({ eventType: "has space" })))).code).toBe("VALIDATION_FAILED");
    expect((await errorOf(r.ingest("nope" as never))).code).toBe("VALIDATION_FAILED");
    expect((await errorOf(r.ingest([]))).code).toBe("VALIDATION_FAILED");
    expect(await counts()).toEqual([{ raw: 0, buckets: 0, sessions: 0 }]);
    const kept = await r.ingest(batch, { partial: true });
    expect(kept.accepted).toBe(2);
    expect(kept.rejected.map((e) => e.index)).toEqual([1, 3, 4, 5, 6, 7, 8]);
    expect(await counts()).toEqual([{ raw: 2, buckets: 1, sessions: 1 }]);
  });

  it("properties that are not JSON and bad options are typed errors, and nothing is written", async () => {
    const r = region(fresh("not-json"));
    // RPC carries a BigInt (structured clone); JSON cannot.
    const err = await errorOf(r.ingest([event(), event({ properties: { n: 1n } })]));
    expect(err.code).toBe("VALIDATION_FAILED");
    expect((err.details as { errors: unknown[] }).errors).toEqual([
      { index: 1, path: "properties", message: "must be plain JSON (no BigInt, no cycles)" },
    ]);
    for (const options of [{ partial: "yes" }, [], "partial"])
      expect((await errorOf(r.ingest(event(), options as never))).code).toBe("VALIDATION_FAILED");
    const [{ n }] = await rows<{ n: number }>(r, "SELECT count(*) AS n FROM raw_events");
    expect(n).toBe(0);
    expect((await r.ingest(event(), { partial: false })).accepted).toBe(1);
  });

  it("user ids are hashed with HMAC-SHA-256 and the salt: stable across events and restarts, different per salt", async () => {
    // RFC 4231 test case 2: the hasher is HMAC-SHA-256.
    expect(await new UserHasher("Jefe").hash("what do ya want for nothing?")).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
    const nameA = fresh("hash-a");
    const a = region(nameA);
    const b = region(fresh("hash-b"));
    await a.ingest([
      event({ userId: "alice@example.com" }),
      event({ sessionId: "s2", userId: "alice@example.com" }),
    ]);
    await evictDurableObject(env.REGIONAL_ANALYTICS.getByName(nameA));
    await a.ingest(event({ sessionId: "s3", userId: "alice@example.com" }));
    await b.ingest(event({ userId: "alice@example.com" }));
    const hashesA = await rows<{ user_hash: string }>(a, "SELECT user_hash FROM raw_events ORDER BY id");
    const [hashB] = await rows<{ user_hash: string }>(b, "SELECT user_hash FROM raw_events");
    expect(new Set(hashesA.map((h) => h.user_hash)).size).toBe(1);
    const salt = await runInDurableObject(
      a,
      (actor: RegionalAnalytics) =>
        actor.query<{ value: string }>("SELECT value FROM analytics_state WHERE key = 'dev_salt'")[0].value,
    );
    expect(hashesA[0].user_hash).toBe(await new UserHasher(salt).hash("alice@example.com"));
    expect(hashesA[0].user_hash).toMatch(/^[0-9a-f]{64}$/);
    // Another actor (another generated development salt): another hash of the same id.
    expect(hashB.user_hash).not.toBe(hashesA[0].user_hash);
    const sessions = await rows<{ user_hash: string }>(a, "SELECT DISTINCT user_hash FROM active_sessions");
    expect(sessions).toEqual([{ user_hash: hashesA[0].user_hash }]);
  });

  it("salt configuration: a configured salt is used; production (auth set) without one is a clear error", () => {
    expect(configuredSalt({ ANALYTICS_SALT: "0123456789abcdef-salt" })).toEqual({
      salt: "0123456789abcdef-salt",
    });
    expect(configuredSalt({})).toEqual({ development: true });
    for (const env of [
      { ADMIN_TOKEN: "t".repeat(32) },
      { AUTH_JWT_SECRET: "s".repeat(32) },
      { ANALYTICS_SALT: "short" },
    ])
      expect(() => configuredSalt(env)).toThrow(/ANALYTICS_SALT/);
  });
});

async function codeOfIngest(
  r: ReturnType<typeof region>,
  events: Parameters<RegionalAnalytics["ingest"]>[0],
) {
  return (await errorOf(r.ingest(events))).code;
}
