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
 * mode (synchronous NORMAL) instead of memory, nearer to what a Durable Object writes.
 */
export function rawAnalytics(n, batch, onDisk = false) {
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
  db.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  return ms;
}
