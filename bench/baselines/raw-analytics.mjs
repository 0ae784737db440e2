// The floor of the analytics case: RegionalAnalytics' ingest statements (the same texts,
// actors/regional-analytics/ingest-sql.ts, imported as TypeScript: node strips the types) on raw
// SQLite in Node (node:sqlite), prepared once, over the actor's migration. The bench's events (50
// sessions, 20 users, 5 paths, 2 event types, one minute), with path, minute and user hash
// computed before the clock starts: SQL alone, no validation, no hashing, no RPC.
import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { eventRow, RAW, RAWS } from "../../actors/regional-analytics/ingest-sql.ts";

// The actor's migrations, in the journal's order.
const folder = new URL("../../migrations/regional-analytics/", import.meta.url);
const ddl = JSON.parse(readFileSync(new URL("meta/_journal.json", folder), "utf8"))
  .entries.flatMap((e) =>
    readFileSync(new URL(`${e.tag}.sql`, folder), "utf8").split("--> statement-breakpoint"),
  )
  .filter((s) => s.trim());

/** The bench's events as the actor writes them: each one's raw_events fields, `eventRow`'s order. */
function events(n, prefix, at) {
  const minute = new Date(at).toISOString().slice(0, 16);
  return Array.from({ length: n }, (_, i) => {
    const userId = i % 3 === 0 ? null : `${prefix}-u${i % 20}`;
    const hash = userId === null ? null : createHmac("sha256", "bench-salt").update(userId).digest("hex");
    return eventRow(
      `${prefix}-s${i % 50}`,
      userId,
      hash,
      "198.51.100.7",
      "bench/1.0",
      i % 4 === 0 ? "click" : "page_view",
      JSON.stringify({ i }),
      `https://shop.example/p${i % 5}?ref=${i}`,
      `/p${i % 5}`,
      null,
      at,
      minute,
    );
  });
}

/**
 * `n` events in transactions of `batch`, each transaction written by `write(db, rows, at)`;
 * answers the elapsed ms. `onDisk`: a database file in WAL mode (synchronous NORMAL) instead of
 * memory, nearer to what a Durable Object writes.
 */
function timed(n, batch, onDisk, prepare) {
  const dir = onDisk ? mkdtempSync(join(tmpdir(), "dosql-floor-")) : null;
  const db = new DatabaseSync(dir ? join(dir, "floor.sqlite") : ":memory:");
  if (dir) db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
  for (const statement of ddl) db.exec(statement);
  const write = prepare(db);
  const at = Date.now();
  const list = events(n, `raw-${at}`, at);
  const t0 = performance.now();
  for (let i = 0; i < n; i += batch) {
    db.exec("BEGIN");
    write(list.slice(i, i + batch), at);
    db.exec("COMMIT");
  }
  const ms = performance.now() - t0;
  db.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  return ms;
}

/** The per-event statement (what the actor runs for a single event), one transaction per `batch` events. */
export function rawAnalytics(n, batch, onDisk = false) {
  return timed(n, batch, onDisk, (db) => {
    const raw = db.prepare(RAW);
    return (rows, now) => {
      for (const row of rows) raw.run(...row, now);
    };
  });
}

/** The set-based statement (what the actor runs for a batch), over each batch's JSON. */
export function rawAnalyticsSet(n, batch, onDisk = false) {
  return timed(n, batch, onDisk, (db) => {
    const raws = db.prepare(RAWS);
    return (rows, now) => raws.run(JSON.stringify(rows), now);
  });
}
