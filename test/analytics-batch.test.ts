// RegionalAnalytics writes a batch set-based (four statements per batch, ingest-sql.ts BUCKETS /
// MEMBERS / RAWS / SESSIONS) and a single event with the per-event statements: both must leave exactly the
// same rows. The same events go one by one into one actor and in batches into another (the same
// salt in both), and every table they write is compared.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RegionalAnalytics } from "../actors/index";
import type { EventInput } from "../actors/regional-analytics/event";
import { event, fresh, region, rows } from "./analytics-helpers";

const MINUTE = 60_000;
const SALT = "batch-equivalence-salt-0123456789";

/** Both actors hash with the same development salt (kept in analytics_state, read at the first ingest). */
const withSalt = (r: ReturnType<typeof region>) =>
  runInDurableObject(r, (actor: RegionalAnalytics) => {
    actor.run("INSERT INTO analytics_state (key, value) VALUES ('dev_salt', ?)", [SALT]);
  });

/** What each table holds, in a fixed order (ingested_at left out: the two actors wrote at other times). */
async function tables(r: ReturnType<typeof region>) {
  return {
    raw: await rows(
      r,
      `SELECT id, session_id, user_id, user_hash, ip_address, user_agent, event_type, event_data, page_url,
         page_path, referrer, timestamp, typeof(timestamp) AS t, minute, hex(user_agent) AS ua, hex(page_path) AS p
       FROM raw_events ORDER BY id`,
    ),
    buckets: await rows(r, "SELECT * FROM minute_aggregates ORDER BY minute, event_type, page_path"),
    members: await rows(
      r,
      "SELECT * FROM minute_members ORDER BY minute, event_type, page_path, kind, member",
    ),
    sessions: await rows(r, "SELECT * FROM active_sessions ORDER BY session_id"),
    daily: await rows(
      r,
      "SELECT date, day_start, event_type, page_path, total_events, unique_sessions, unique_users, avg_session_duration FROM daily_aggregates ORDER BY 1, 3, 4",
    ),
    rollups: await rows(
      r,
      "SELECT date, event_type, total_events, unique_sessions, unique_users FROM region_rollups ORDER BY 1, 2",
    ),
  };
}

describe("RegionalAnalytics: a batch leaves the same rows as its events one by one", () => {
  it("sessions and users repeated across buckets and across two batches: every table identical", async () => {
    const now = Math.floor(Date.now() / MINUTE) * MINUTE;
    // Three minutes, two types, three paths; 9 sessions, 5 users (and anonymous events), a session
    // whose user changes (and goes back to none), text with lone surrogates, properties or none.
    const events: EventInput[] = Array.from({ length: 240 }, (_, i) =>
      event({
        sessionId: `s${(i * 7) % 9}`,
        userId: i % 4 === 0 ? undefined : `u${(i * 3) % 5}`,
        eventType: i % 4 === 0 ? "click" : "page_view",
        pageUrl: i % 10 === 0 ? `/p${i % 3}\ud800?q=${i}` : `https://x.test/p${i % 3}?i=${i}`,
        timestamp: now - (3 - (Math.floor(i / 5) % 3)) * MINUTE + (i % 50) * 1000,
        ipAddress: i % 2 ? "198.51.100.7" : undefined,
        userAgent: i % 5 === 0 ? `ua\udc00${i}` : i % 5 === 1 ? undefined : "bench/1.0 é ✓",
        referrer: i % 6 === 0 ? "https://ref.test/\ud83d\ude00" : undefined,
        properties: i % 2 ? { i, s: "\ud800" } : undefined,
      }),
    );
    const one = region(fresh("one-by-one"));
    const set = region(fresh("batched"));
    await withSalt(one);
    await withSalt(set);
    for (const e of events) await one.ingest(e);
    // Two batches: the second's sessions and users already counted in buckets of the first.
    expect((await set.ingest(events.slice(0, 130))).accepted).toBe(130);
    expect((await set.ingest(events.slice(130))).accepted).toBe(110);
    await one.rollup();
    await set.rollup();

    const [a, b] = [await tables(one), await tables(set)];
    expect(a.raw).toHaveLength(240);
    expect(a.buckets.length).toBeGreaterThan(10);
    expect(a.sessions).toHaveLength(9);
    expect(a.rollups.length).toBeGreaterThan(0);
    expect(a.members.length).toBeGreaterThan(a.buckets.length);
    expect(b).toEqual(a);
    // Exact: each bucket's uniques are its raw events' distinct sessions and users.
    expect(
      a.buckets.map(({ minute, event_type, page_path, event_count, unique_sessions, unique_users }) => ({
        minute,
        event_type,
        page_path,
        event_count,
        unique_sessions,
        unique_users,
      })),
    ).toEqual(
      await rows(
        one,
        `SELECT minute, event_type, page_path, count(*) AS event_count, count(DISTINCT session_id) AS unique_sessions,
           count(DISTINCT user_hash) AS unique_users FROM raw_events GROUP BY minute, event_type, page_path ORDER BY 1, 2, 3`,
      ),
    );
    // Repeated sessions were counted once per bucket, not once per event.
    const counted = a.buckets.reduce((n, r) => n + Number(r.unique_sessions), 0);
    expect(counted).toBeLessThan(240);
  });

  it("partial: the valid events of a batch with bad ones leave the rows they leave one by one", async () => {
    const now = Date.now();
    const good = (i: number) =>
      event({
        sessionId: `s${i % 3}`,
        userId: `u${i % 2}`,
        timestamp: now - i * 1000,
        pageUrl: `/p${i % 2}`,
      });
    const batch = [good(0), event({ sessionId: "bad one" }), good(1), good(2), good(3)];
    const one = region(fresh("partial-one"));
    const set = region(fresh("partial-set"));
    await withSalt(one);
    await withSalt(set);
    for (const i of [0, 1, 2, 3]) await one.ingest(good(i));
    const result = await set.ingest(batch, { partial: true });
    expect(result.accepted).toBe(4);
    expect(result.rejected.map((e) => e.index)).toEqual([1]);
    expect(await tables(set)).toEqual(await tables(one));
  });
});
