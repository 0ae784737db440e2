// The one place that decides whether a statement given to `this.query` / `this.run` needs more
// than `ctx.storage.sql.exec`. The tokenizer is history's small one (src/history/sql-scan.ts, no
// dependencies); when the shared tokenizer lands, repoint the import below and nothing else.
import { type Token, tokenize } from "./history/sql-scan";

/** How SqlActor runs a statement. */
export const Route = {
  /** Straight to `sql.exec`, rows read with `toArray()`. */
  Rows: 0,
  /** A single INSERT/UPDATE/DELETE/REPLACE without RETURNING: the cursor is not materialised. */
  Write: 1,
  /** A real `FOR SYSTEM_TIME` clause: history rewrites it. */
  TimeTravel: 2,
  /** An `'r2://…'` string right after FROM or JOIN: a cold query (tiering). */
  Cold: 3,
  /** An `'r2://…'` string after a comma: cold only if tiering finds it in a FROM list. */
  MaybeCold: 4,
} as const;
export type Route = (typeof Route)[keyof typeof Route];

const WRITE = /^\s*(?:insert|update|delete|replace)\b/i;
const RETURNING = /returning/i;
const TIME_TRAVEL_HINT = /system_time/i;

/**
 * The route of one SQL text. Pure: it depends on the text alone (never on the parameters), so it
 * is computed once per distinct text. Only texts that mention `system_time` or `r2://` somewhere
 * are tokenized, and the words count only outside string literals, quoted names and comments.
 */
export function routeOf(sql: string): Route {
  const timeHint = TIME_TRAVEL_HINT.test(sql);
  const r2Hint = sql.includes("r2://");
  if (timeHint || r2Hint) {
    const words = tokenize(sql).filter((t) => t.kind !== "space" && t.kind !== "comment");
    if (timeHint && words.some((t, i) => isWord(t, "FOR") && isWord(words[i + 1], "SYSTEM_TIME")))
      return Route.TimeTravel;
    if (r2Hint) {
      let maybe = false;
      for (let i = 1; i < words.length; i++) {
        const t = words[i];
        if (t.kind !== "string" || !t.text.startsWith("'r2://")) continue;
        const prev = words[i - 1];
        if (isWord(prev, "FROM") || isWord(prev, "JOIN")) return Route.Cold;
        if (prev.kind === "punct" && prev.text === ",") maybe = true;
      }
      if (maybe) return Route.MaybeCold;
    }
  }
  // One statement (nothing after a `;` but space) that writes and returns nothing.
  const semi = sql.indexOf(";");
  if (WRITE.test(sql) && !RETURNING.test(sql) && (semi < 0 || sql.slice(semi + 1).trim() === ""))
    return Route.Write;
  return Route.Rows;
}

function isWord(t: Token | undefined, word: string): boolean {
  return t !== undefined && t.kind === "word" && t.text.toUpperCase() === word;
}

/** At most this many distinct SQL texts are remembered per actor (oldest forgotten first)... */
export const ROUTE_CACHE_SIZE = 512;
/** ...each at most this long (so the cache holds at most ~2 MB); longer texts are routed every time. */
export const ROUTE_CACHE_TEXT = 4096;

/** Routes by SQL text, bounded. A lookup is one Map.get (a constant string hashes once). */
export class RouteCache {
  readonly #routes = new Map<string, Route>();
  readonly #refine: (sql: string, route: Route) => Route;

  /** `refine` may turn a route into another (tiering settles MaybeCold); called once per text. */
  constructor(refine: (sql: string, route: Route) => Route = (_, route) => route) {
    this.#refine = refine;
  }

  get(sql: string): Route {
    const known = this.#routes.get(sql);
    if (known !== undefined) return known;
    const route = this.#refine(sql, routeOf(sql));
    if (sql.length > ROUTE_CACHE_TEXT) return route;
    if (this.#routes.size >= ROUTE_CACHE_SIZE) this.#routes.delete(this.#routes.keys().next().value!);
    this.#routes.set(sql, route);
    return route;
  }

  get size(): number {
    return this.#routes.size;
  }
}
