// Migrations 0001-0004 of RegionalAnalytics: the unique checks read minute_members (who each
// minute bucket has counted) instead of two indexes of raw_events, and a trigger on raw_events
// keeps the figures instead of three statements of the actor per event. A region written before them
// must go on counting exactly: a session or user already counted in a bucket before the upgrade is
// not counted again by an event after it. The old region is made for real: a fresh actor taken
// back to migration 0000 (the new table and trigger dropped, the old indexes back, the ledger rows removed),
// written with the statements of before (the per-event texts as they were), then migrated by the
// same applyMigrations the actor runs on wake, then written through `ingest`.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RegionalAnalytics } from "../actors/index";
import type { EventInput } from "../actors/regional-analytics/event";
import { eventRow, RAW } from "../actors/regional-analytics/ingest-sql";
import { UserHasher } from "../actors/regional-analytics/privacy";
import migrations from "../migrations/regional-analytics/migrations.js";
import { applyMigrations } from "../src/index";
import { event, fresh, region, rows } from "./analytics-helpers";

const MINUTE = 60_000;
const SALT = "upgrade-salt-0123456789abcdef";

/** The bucket upsert of migration 0000: the unique checks against raw_events (its two indexes). */
const OLD_BUCKET = `INSERT INTO minute_aggregates (minute, event_type, page_path, event_count, unique_sessions, unique_users)
  VALUES (?1, ?2, ?3, 1,
    NOT EXISTS (SELECT 1 FROM raw_events WHERE session_id = ?4 AND minute = ?1 AND event_type = ?2 AND page_path = ?3),
    CASE WHEN ?5 IS NULL THEN 0 ELSE NOT EXISTS (SELECT 1 FROM raw_events WHERE user_hash = ?5 AND minute = ?1 AND event_type = ?2 AND page_path = ?3) END)
  ON CONFLICT (minute, event_type, page_path) DO UPDATE SET event_count = event_count + 1,
    unique_sessions = unique_sessions + excluded.unique_sessions, unique_users = unique_users + excluded.unique_users`;

const OLD_SESSION = `INSERT INTO active_sessions (session_id, user_hash, first_seen, last_seen, event_count, pages_viewed)
  VALUES (?, ?, ?, ?, 1, ?)
  ON CONFLICT (session_id) DO UPDATE SET user_hash = coalesce(excluded.user_hash, user_hash),
    first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen),
    event_count = event_count + 1, pages_viewed = pages_viewed + excluded.pages_viewed`;

const OLD_INDEXES = [
  "CREATE INDEX `idx_raw_events_session_minute` ON `raw_events` (`session_id`,`minute`)",
  "CREATE INDEX `idx_raw_events_user_minute` ON `raw_events` (`user_hash`,`minute`) WHERE user_hash IS NOT NULL",
];

/** 3 minutes, 2 types, 2 paths, 6 sessions, 4 users and anonymous events. */
function events(from: number, count: number, now: number): EventInput[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return event({
      sessionId: `s${(i * 5) % 6}`,
      userId: i % 3 === 0 ? undefined : `u${i % 4}`,
      eventType: i % 4 === 0 ? "click" : "page_view",
      pageUrl: `https://x.test/p${i % 2}?i=${i}`,
      timestamp: now - (i % 3) * MINUTE - 1000,
    });
  });
}

/** Each bucket's figures as they must be: its events, and its distinct sessions and users, from raw_events. */
const EXACT = `SELECT minute, event_type, page_path, count(*) AS event_count, count(DISTINCT session_id) AS unique_sessions,
  count(DISTINCT user_hash) AS unique_users FROM raw_events GROUP BY minute, event_type, page_path ORDER BY 1, 2, 3`;
const BUCKETS = `SELECT minute, event_type, page_path, event_count, unique_sessions, unique_users
  FROM minute_aggregates ORDER BY 1, 2, 3`;
const MEMBERS =
  "SELECT minute, event_type, page_path, kind, member FROM minute_members ORDER BY 1, 2, 3, 4, 5";
const DISTINCT_MEMBERS = `SELECT DISTINCT minute, event_type, page_path, 'session' AS kind, session_id AS member FROM raw_events
  UNION SELECT DISTINCT minute, event_type, page_path, 'user', user_hash FROM raw_events WHERE user_hash IS NOT NULL
  ORDER BY 1, 2, 3, 4, 5`;

describe("RegionalAnalytics: upgrade to minute_members and the raw_events trigger (migrations 0001-0004)", () => {
  it("a region written before the upgrade counts each session and user once per bucket after it", async () => {
    const now = Math.floor(Date.now() / MINUTE) * MINUTE + 30_000;
    const before = events(0, 60, now);
    const after = events(60, 60, now);
    const upgraded = region(fresh("upgraded"));
    const report = await runInDurableObject(upgraded, async (actor: RegionalAnalytics, state) => {
      const sql = state.storage.sql;
      // Back to migration 0000: what a region created before 0001 holds.
      sql.exec("DROP TABLE minute_members");
      for (const ddl of OLD_INDEXES) sql.exec(ddl);
      sql.exec("DROP TRIGGER raw_events_counts");
      sql.exec(
        "DELETE FROM _dosql_migrations WHERE tag IN ('0001_minute_members', '0002_minute_members_backfill', '0003_raw_events_counts', '0004_raw_events_counts_by_changes')",
      );
      sql.exec("INSERT INTO analytics_state (key, value) VALUES ('dev_salt', ?)", SALT);
      // Written by the old actor: its three per-event statements, one transaction each.
      const hasher = new UserHasher(SALT);
      for (const e of before) {
        const at = Number(e.timestamp);
        const minute = new Date(at - (at % MINUTE)).toISOString().slice(0, 16);
        const path = new URL(e.pageUrl).pathname;
        const hash = e.userId === undefined ? null : await hasher.hash(e.userId);
        state.storage.transactionSync(() => {
          sql.exec(OLD_BUCKET, minute, e.eventType, path, e.sessionId, hash);
          const row = eventRow(
            e.sessionId,
            e.userId ?? null,
            hash,
            null,
            null,
            e.eventType,
            null,
            e.pageUrl,
            path,
            null,
            at,
            minute,
          );
          sql.exec(RAW, ...(row as SqlStorageValue[]), Date.now());
          sql.exec(OLD_SESSION, e.sessionId, hash, at, at, e.eventType === "page_view" ? 1 : 0);
        });
      }
      const oldBuckets = sql.exec(BUCKETS).toArray();
      const oldExact = sql.exec(EXACT).toArray();
      // The actor's wake: pending migrations applied.
      const applied = applyMigrations(state.storage, migrations).applied;
      const indexes = sql
        .exec(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'raw_events' AND sql IS NOT NULL ORDER BY name",
        )
        .toArray()
        .map((r) => r.name);
      // Then the new actor's ingest: one event at a time for half, one batch for the rest.
      for (const e of after.slice(0, 30)) await actor.ingest(e);
      await actor.ingest(after.slice(30));
      return { applied, indexes, oldBuckets, oldExact };
    });
    expect(report.applied).toEqual([
      "0001_minute_members",
      "0002_minute_members_backfill",
      "0003_raw_events_counts",
      "0004_raw_events_counts_by_changes",
    ]);
    expect(report.indexes).toEqual(["idx_raw_events_timestamp"]);
    // The old statements counted exactly (the figures the upgrade must keep).
    expect(report.oldBuckets).toEqual(report.oldExact);

    // Exact after the upgrade: every bucket's uniques are its distinct sessions and users, and
    // minute_members holds exactly the buckets' distinct sessions and users.
    const buckets = await rows(upgraded, BUCKETS);
    expect(buckets).toEqual(await rows(upgraded, EXACT));
    expect(await rows(upgraded, MEMBERS)).toEqual(await rows(upgraded, DISTINCT_MEMBERS));
    expect(buckets.reduce((n, b) => n + Number(b.event_count), 0)).toBe(120);

    // The same events through a region that never had the old schema: the same rows.
    const fresher = region(fresh("never-old"));
    await runInDurableObject(fresher, (actor: RegionalAnalytics) => {
      actor.run("INSERT INTO analytics_state (key, value) VALUES ('dev_salt', ?)", [SALT]);
    });
    for (const e of before) await fresher.ingest(e);
    for (const e of after.slice(0, 30)) await fresher.ingest(e);
    await fresher.ingest(after.slice(30));
    expect(await rows(fresher, BUCKETS)).toEqual(buckets);
    expect(await rows(fresher, MEMBERS)).toEqual(await rows(upgraded, MEMBERS));
    expect(await rows(fresher, "SELECT * FROM active_sessions ORDER BY session_id")).toEqual(
      await rows(upgraded, "SELECT * FROM active_sessions ORDER BY session_id"),
    );
  });
});
