import { DurableObject } from "cloudflare:workers";
import { GlobalAnalytics, RegionalAnalytics } from "../../actors/index";
import * as schema from "../../actors/regional-analytics/schema";
import init from "../../migrations/regional-analytics/0000_init.sql";
import migrations from "../../migrations/regional-analytics/migrations.js";
import { defineActor } from "../../src/index";

export { GlobalAnalytics as BenchGlobalAnalytics };

/** A bench event: `i`-th of a run, 50 sessions, 20 users, 5 paths, 2 event types, the current minute. */
function benchEvent(prefix: string, i: number, at: number) {
  return {
    sessionId: `${prefix}-s${i % 50}`,
    eventType: i % 4 === 0 ? "click" : "page_view",
    pageUrl: `https://shop.example/p${i % 5}?ref=${i}`,
    timestamp: at,
    userId: i % 3 === 0 ? undefined : `${prefix}-u${i % 20}`,
    ipAddress: "198.51.100.7",
    userAgent: "bench/1.0",
    properties: { i },
  };
}

/** The framework side: the real RegionalAnalytics, plus one method that ingests `n` events in batches of `batch`. */
export class BenchRegionalAnalytics extends RegionalAnalytics {
  async benchIngest(n: number, batch: number, prefix: string): Promise<number> {
    const at = Date.now();
    for (let i = 0; i < n; i += batch) {
      const events = [];
      for (let k = i; k < Math.min(n, i + batch); k++) events.push(benchEvent(prefix, k, at));
      await this.ingest(batch === 1 ? events[0] : events);
    }
    return n;
  }
}

/** The same without history, forward and tiering: what those parts cost on the ingest path. */
export class BenchRegionalAnalyticsBare extends BenchRegionalAnalytics {
  static override config = defineActor({ schema, migrations });
}

// The baseline's SQL is the actor's, statement for statement (same tables, from the same migration).
const BUCKET = `INSERT INTO minute_aggregates (minute, event_type, page_path, event_count, unique_sessions, unique_users)
  VALUES (?, ?, ?, 1,
    NOT EXISTS (SELECT 1 FROM raw_events WHERE session_id = ? AND minute = ? AND event_type = ? AND page_path = ?),
    CASE WHEN ? IS NULL THEN 0 ELSE NOT EXISTS (SELECT 1 FROM raw_events WHERE user_hash = ? AND minute = ? AND event_type = ? AND page_path = ?) END)
  ON CONFLICT (minute, event_type, page_path) DO UPDATE SET event_count = event_count + 1,
    unique_sessions = unique_sessions + excluded.unique_sessions, unique_users = unique_users + excluded.unique_users`;
const RAW = `INSERT INTO raw_events (session_id, user_id, user_hash, ip_address, user_agent, event_type, event_data,
  page_url, page_path, referrer, timestamp, minute, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const SESSION = `INSERT INTO active_sessions (session_id, user_hash, first_seen, last_seen, event_count, pages_viewed)
  VALUES (?, ?, ?, ?, 1, ?)
  ON CONFLICT (session_id) DO UPDATE SET user_hash = coalesce(excluded.user_hash, user_hash),
    first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen),
    event_count = event_count + 1, pages_viewed = pages_viewed + excluded.pages_viewed`;

type BenchEvent = ReturnType<typeof benchEvent>;

/** The baseline: a hand-written Durable Object doing the same ingest (HMAC of the user id, same SQL), checks inline. */
export class PlainAnalytics extends DurableObject<Env> {
  readonly #sql: SqlStorage;
  readonly #key: Promise<CryptoKey>;
  readonly #hashes = new Map<string, string>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    const exists =
      this.#sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'raw_events'").toArray().length > 0;
    if (!exists)
      ctx.storage.transactionSync(() => {
        for (const statement of init.split("--> statement-breakpoint")) this.#sql.exec(statement);
      });
    this.#key = crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode("bench-salt-0123456789abcdef"),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
  }

  async #hash(userId: string): Promise<string> {
    const known = this.#hashes.get(userId);
    if (known) return known;
    const mac = new Uint8Array(
      await crypto.subtle.sign("HMAC", await this.#key, new TextEncoder().encode(userId)),
    );
    const hex = [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
    this.#hashes.set(userId, hex);
    return hex;
  }

  async ingest(events: BenchEvent[]): Promise<number> {
    const prepared = await Promise.all(
      events.map(async (e) => {
        if (
          typeof e.sessionId !== "string" ||
          typeof e.eventType !== "string" ||
          typeof e.pageUrl !== "string"
        )
          throw new Error("bad event");
        const url = new URL(e.pageUrl);
        return {
          e,
          path: url.pathname,
          minute: new Date(e.timestamp).toISOString().slice(0, 16),
          hash: e.userId === undefined ? null : await this.#hash(e.userId),
        };
      }),
    );
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      for (const { e, path, minute, hash } of prepared) {
        this.#sql.exec(
          BUCKET,
          minute,
          e.eventType,
          path,
          e.sessionId,
          minute,
          e.eventType,
          path,
          hash,
          hash,
          minute,
          e.eventType,
          path,
        );
        this.#sql.exec(
          RAW,
          e.sessionId,
          e.userId ?? null,
          hash,
          e.ipAddress ?? null,
          e.userAgent ?? null,
          e.eventType,
          JSON.stringify(e.properties),
          e.pageUrl,
          path,
          null,
          e.timestamp,
          minute,
          now,
        );
        this.#sql.exec(
          SESSION,
          e.sessionId,
          hash,
          e.timestamp,
          e.timestamp,
          e.eventType === "page_view" ? 1 : 0,
        );
      }
    });
    return events.length;
  }

  async benchIngest(n: number, batch: number, prefix: string): Promise<number> {
    const at = Date.now();
    for (let i = 0; i < n; i += batch) {
      const events = [];
      for (let k = i; k < Math.min(n, i + batch); k++) events.push(benchEvent(prefix, k, at));
      await this.ingest(events);
    }
    return n;
  }
}

/** The hand-written Worker side of the HTTP bench: parse, check the basics, one RPC to the DO. */
export async function plainAnalyticsHttp(
  request: Request,
  ns: DurableObjectNamespace<PlainAnalytics>,
): Promise<Response> {
  const match = /^\/plain-http\/analytics\/([a-z]{1,16})\/ingest$/.exec(new URL(request.url).pathname);
  if (!match || request.method !== "POST")
    return Response.json({ error: { code: "NOT_FOUND" } }, { status: 404 });
  let body: BenchEvent | BenchEvent[];
  try {
    body = await request.json();
  } catch {
    return Response.json({ error: { code: "INVALID_JSON" } }, { status: 400 });
  }
  const events = Array.isArray(body) ? body : [body];
  try {
    return Response.json({ accepted: await ns.getByName(match[1]).ingest(events) });
  } catch (err) {
    return Response.json({ error: { code: "VALIDATION_FAILED", message: String(err) } }, { status: 400 });
  }
}
