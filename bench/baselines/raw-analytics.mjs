// The floor of the analytics case: RegionalAnalytics' three ingest statements per event (the same
// texts, actors/regional-analytics/ingest-sql.ts) on raw SQLite in Node (node:sqlite), prepared
// once, over the actor's migration. The bench's events (50 sessions, 20 users, 5 paths, 2 event
// types, one minute), with path, minute and user hash computed before the clock starts: SQL alone,
// no validation, no hashing, no RPC. One transaction per event (single) or per `batch` events.
import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { BUCKET, RAW, SESSION } from "../../actors/regional-analytics/ingest-sql.ts";

const ddl = readFileSync(
  new URL("../../migrations/regional-analytics/0000_init.sql", import.meta.url),
  "utf8",
)
  .split("--> statement-breakpoint")
  .filter((s) => s.trim());

function events(n, prefix, at) {
  const minute = new Date(at).toISOString().slice(0, 16);
  return Array.from({ length: n }, (_, i) => {
    const userId = i % 3 === 0 ? null : `${prefix}-u${i % 20}`;
    return {
      sessionId: `${prefix}-s${i % 50}`,
      eventType: i % 4 === 0 ? "click" : "page_view",
      pageUrl: `https://shop.example/p${i % 5}?ref=${i}`,
      path: `/p${i % 5}`,
      minute,
      userId,
      hash: userId === null ? null : createHmac("sha256", "bench-salt").update(userId).digest("hex"),
      data: JSON.stringify({ i }),
    };
  });
}

/**
 * `n` events in transactions of `batch`; answers the elapsed ms. `onDisk`: a database file in WAL
 * mode (synchronous NORMAL) instead of memory, nearer to what a Durable Object writes. `inspect`
 * sees the database before it is closed (a check of the figures).
 */
export function rawAnalytics(n, batch, onDisk = false, inspect = undefined) {
  const dir = onDisk ? mkdtempSync(join(tmpdir(), "dosql-floor-")) : null;
  const db = new DatabaseSync(dir ? join(dir, "floor.sqlite") : ":memory:");
  if (dir) db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
  for (const statement of ddl) db.exec(statement);
  const bucket = db.prepare(BUCKET);
  const raw = db.prepare(RAW);
  const session = db.prepare(SESSION);
  const at = Date.now();
  const list = events(n, `raw-${at}`, at);
  const t0 = performance.now();
  for (let i = 0; i < n; i += batch) {
    db.exec("BEGIN");
    for (let k = i; k < Math.min(n, i + batch); k++) {
      const e = list[k];
      bucket.run(
        e.minute,
        e.eventType,
        e.path,
        e.sessionId,
        e.minute,
        e.eventType,
        e.path,
        e.hash,
        e.hash,
        e.minute,
        e.eventType,
        e.path,
      );
      raw.run(
        e.sessionId,
        e.userId,
        e.hash,
        "198.51.100.7",
        "bench/1.0",
        e.eventType,
        e.data,
        e.pageUrl,
        e.path,
        null,
        at,
        e.minute,
        at,
      );
      session.run(e.sessionId, e.hash, at, at, e.eventType === "page_view" ? 1 : 0);
    }
    db.exec("COMMIT");
  }
  const ms = performance.now() - t0;
  inspect?.(db);
  db.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  return ms;
}

// What set-based SQL would allow (not what the actor runs): per batch, one bucket upsert per
// (minute, event type, path) with the batch's distinct sessions and user hashes checked against
// raw_events in one statement (json_each), one raw insert per event, one session upsert per
// distinct session. Same figures as the per-event statements; reported to size that change.
const BUCKET_SET = `INSERT INTO minute_aggregates (minute, event_type, page_path, event_count, unique_sessions, unique_users)
  VALUES (?1, ?2, ?3, ?4,
    (SELECT count(*) FROM json_each(?5) j WHERE NOT EXISTS (SELECT 1 FROM raw_events WHERE session_id = j.value AND minute = ?1 AND event_type = ?2 AND page_path = ?3)),
    (SELECT count(*) FROM json_each(?6) j WHERE NOT EXISTS (SELECT 1 FROM raw_events WHERE user_hash = j.value AND minute = ?1 AND event_type = ?2 AND page_path = ?3)))
  ON CONFLICT (minute, event_type, page_path) DO UPDATE SET event_count = event_count + excluded.event_count,
    unique_sessions = unique_sessions + excluded.unique_sessions, unique_users = unique_users + excluded.unique_users`;
const SESSION_SET = `INSERT INTO active_sessions (session_id, user_hash, first_seen, last_seen, event_count, pages_viewed)
  VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (session_id) DO UPDATE SET user_hash = coalesce(excluded.user_hash, user_hash),
    first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen),
    event_count = event_count + excluded.event_count, pages_viewed = pages_viewed + excluded.pages_viewed`;

/** The set-based statements, `n` events in transactions of `batch` (in memory); answers the elapsed ms. */
export function rawAnalyticsSet(n, batch, inspect = undefined) {
  const db = new DatabaseSync(":memory:");
  for (const statement of ddl) db.exec(statement);
  const bucket = db.prepare(BUCKET_SET);
  const raw = db.prepare(RAW);
  const session = db.prepare(SESSION_SET);
  const at = Date.now();
  const list = events(n, `set-${at}`, at);
  const t0 = performance.now();
  for (let i = 0; i < n; i += batch) {
    const part = list.slice(i, i + batch);
    const buckets = new Map();
    const sessions = new Map();
    for (const e of part) {
      const key = `${e.minute}\u0000${e.eventType}\u0000${e.path}`;
      const b = buckets.get(key) ?? { e, count: 0, sessions: new Set(), hashes: new Set() };
      buckets.set(key, b);
      b.count++;
      b.sessions.add(e.sessionId);
      if (e.hash !== null) b.hashes.add(e.hash);
      const s = sessions.get(e.sessionId) ?? { hash: null, count: 0, pages: 0 };
      s.hash = e.hash ?? s.hash;
      s.count++;
      s.pages += e.eventType === "page_view" ? 1 : 0;
      sessions.set(e.sessionId, s);
    }
    db.exec("BEGIN");
    for (const b of buckets.values())
      bucket.run(
        b.e.minute,
        b.e.eventType,
        b.e.path,
        b.count,
        JSON.stringify([...b.sessions]),
        JSON.stringify([...b.hashes]),
      );
    for (const e of part)
      raw.run(
        e.sessionId,
        e.userId,
        e.hash,
        "198.51.100.7",
        "bench/1.0",
        e.eventType,
        e.data,
        e.pageUrl,
        e.path,
        null,
        at,
        e.minute,
        at,
      );
    for (const [id, s] of sessions) session.run(id, s.hash, at, at, s.count, s.pages);
    db.exec("COMMIT");
  }
  const ms = performance.now() - t0;
  inspect?.(db);
  db.close();
  return ms;
}
