import { DurableObject } from "cloudflare:workers";
import { GlobalAnalytics, RegionalAnalytics } from "../../actors/index";
import { checkEvent, isIssue } from "../../actors/regional-analytics/event";
import { eventRow, RAW, RAWS } from "../../actors/regional-analytics/ingest-sql";
import { FUTURE_SKEW_MS, LATE_WINDOW_MS } from "../../actors/regional-analytics/inputs";
import * as schema from "../../actors/regional-analytics/schema";
import migrations from "../../migrations/regional-analytics/migrations.js";
import { defineActor } from "../../src/index";

export { GlobalAnalytics as BenchGlobalAnalytics };

// The baseline's SQL is the actor's, statement for statement (the same texts, ingest-sql.ts; the
// same tables, from the same migrations): one event by the per-event statements, a batch by the
// set-based ones, as the actor does.

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

type BenchEvent = ReturnType<typeof benchEvent>;

/**
 * The baseline: a hand-written Durable Object doing the same ingest (the same checks, HMAC of the
 * user id, same SQL). Fairness: the actor checks every documented rule of an event (lengths,
 * alphabets, URL, timestamp format and window, IP, properties ≤ 64 KiB of JSON), which a
 * hand-written object serving the same API must do too, so this one runs the same rules: the
 * actor's own event check (event.ts, plain hand-written JavaScript, no framework in it) and the
 * same window. `lax` (the `plain-lax` variant, reported beside) is what this baseline did before
 * (typeof checks and `new URL` only): the difference is what the rules cost.
 */
export class PlainAnalytics extends DurableObject<Env> {
  readonly #sql: SqlStorage;
  readonly #key: Promise<CryptoKey>;
  readonly #hashes = new Map<string, string>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    const exists =
      this.#sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'raw_events'").toArray().length > 0;
    // The actor's migrations, in their order (the same tables and indexes as the actor's).
    if (!exists)
      ctx.storage.transactionSync(() => {
        for (const entry of migrations.journal.entries) {
          const text = (migrations.migrations as Record<string, string>)[
            `m${String(entry.idx).padStart(4, "0")}`
          ];
          for (const statement of text.split("--> statement-breakpoint"))
            if (statement.trim()) this.#sql.exec(statement);
        }
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

  /** The same rules as the actor: every event checked, any bad one refuses the whole batch. */
  #check(events: BenchEvent[]) {
    const now = Date.now();
    return events.map((raw, index) => {
      const e = checkEvent(raw);
      if (isIssue(e)) throw new Error(`events[${index}].${e.path}: ${e.message}`);
      if (e.at > now + FUTURE_SKEW_MS || e.at < now - LATE_WINDOW_MS)
        throw new Error(`events[${index}].timestamp: out of the window`);
      return { ...raw, path: e.path, data: e.data };
    });
  }

  /** What this baseline did before it ran the actor's rules: typeof checks and `new URL`. */
  #checkLax(events: BenchEvent[]) {
    return events.map((e) => {
      if (typeof e.sessionId !== "string" || typeof e.eventType !== "string" || typeof e.pageUrl !== "string")
        throw new Error("bad event");
      return { ...e, path: new URL(e.pageUrl).pathname, data: JSON.stringify(e.properties) };
    });
  }

  async ingest(events: BenchEvent[], lax = false): Promise<number> {
    const checked = lax ? this.#checkLax(events) : this.#check(events);
    const prepared = await Promise.all(
      checked.map(async (e) => {
        const minute = new Date(e.timestamp).toISOString().slice(0, 16);
        const hash = e.userId === undefined ? null : await this.#hash(e.userId);
        // Its raw_events fields (eventRow): a batch row, or RAW's parameters before ingested_at.
        const row = eventRow(
          e.sessionId,
          e.userId ?? null,
          hash,
          e.ipAddress ?? null,
          e.userAgent ?? null,
          e.eventType,
          e.data,
          e.pageUrl,
          e.path,
          null,
          e.timestamp,
          minute,
        );
        return { e, path: e.path, minute, hash, row };
      }),
    );
    const now = Date.now();
    // The raw rows alone: the tables' trigger (migration 0003) keeps the figures, as in the actor.
    if (prepared.length > 1) {
      const batch = JSON.stringify(prepared.map((p) => p.row));
      this.ctx.storage.transactionSync(() => {
        this.#sql.exec(RAWS, batch, now);
      });
      return events.length;
    }
    this.ctx.storage.transactionSync(() => {
      for (const { row } of prepared) this.#sql.exec(RAW, ...(row as SqlStorageValue[]), now);
    });
    return events.length;
  }

  async benchIngest(n: number, batch: number, prefix: string, lax = false): Promise<number> {
    const at = Date.now();
    for (let i = 0; i < n; i += batch) {
      const events = [];
      for (let k = i; k < Math.min(n, i + batch); k++) events.push(benchEvent(prefix, k, at));
      await this.ingest(events, lax);
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
