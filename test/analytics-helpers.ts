import { env, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import type { GlobalAnalytics, RegionalAnalytics } from "../actors/index";
import type { EventInput } from "../actors/regional-analytics/event";
import { quietStub } from "../src/quiet";

let seq = 0;
/** A fresh name (storage is shared per test file, names are not). */
export const fresh = (prefix: string) => `${prefix}-${Date.now()}-${seq++}`;

/** A RegionalAnalytics actor under a fresh name (the coordinator's are us, eu, apac). */
export const region = (name: string) => quietStub(env.REGIONAL_ANALYTICS.getByName(name));
export const globalActor = () => quietStub(env.GLOBAL_ANALYTICS.getByName("global"));

export const open = (path: string, init?: RequestInit) => exports.default.fetch(`http://c${path}`, init);
export const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  open(path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

export function event(over: Partial<EventInput> = {}): EventInput {
  return {
    sessionId: "s1",
    eventType: "page_view",
    pageUrl: "https://shop.example/products?id=1",
    timestamp: Date.now(),
    ...over,
  };
}

/** Every row of every table of an actor (the framework's own tables included). */
export function dumpAll(stub: DurableObjectStub<RegionalAnalytics> | DurableObjectStub<GlobalAnalytics>) {
  return runInDurableObject(stub as DurableObjectStub<GlobalAnalytics>, (actor: GlobalAnalytics) => {
    const tables = actor
      .query<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
      )
      .map((t) => t.name);
    const out: Record<string, Record<string, unknown>[]> = {};
    for (const t of tables) out[t] = actor.query(`SELECT * FROM "${t}"`);
    return out;
  });
}

/** Rows of one table of a regional actor. */
export function rows<T = Record<string, unknown>>(stub: DurableObjectStub<RegionalAnalytics>, sql: string) {
  return runInDurableObject(stub, (actor: RegionalAnalytics) => actor.query(sql) as T[]);
}

/** Make a schedule task due now (by key) so the real alarm runs it. */
export function makeDue(stub: DurableObjectStub<RegionalAnalytics>, key: string) {
  return runInDurableObject(stub, (actor: RegionalAnalytics) => {
    actor.run("UPDATE _dosql_schedules SET next_run_at = ? WHERE key = ?", [Date.now() - 1, key]);
  });
}

export const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return "no error";
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
};

export const errorOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return e as { code: string; details?: Record<string, unknown>; message: string };
  }
  throw new Error("expected an error");
};
