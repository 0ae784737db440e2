// The one place that decides whether a statement given to `this.query` / `this.run` needs more
// than `ctx.storage.sql.exec`. What a text asks of the framework's SQL extensions comes from the
// shared tokenizer (src/sql/extensions.ts); this adds the write check and caches the whole answer
// per actor, so a known text costs one Map lookup.
import { sqlExtensions } from "./sql/extensions";

/** How SqlActor runs a statement. */
export const Route = {
  /** Straight to `sql.exec`, rows read with `toArray()`. */
  Rows: 0,
  /** A single INSERT/UPDATE/DELETE/REPLACE without RETURNING: the cursor is not materialised. */
  Write: 1,
  /** A real `FOR SYSTEM_TIME` clause: history rewrites it. */
  TimeTravel: 2,
  /** An `'r2://…'` / `'https://…'` / `'http://…'` source in FROM/JOIN position (or a FROM list): tiering, sources. */
  Cold: 3,
} as const;
export type Route = (typeof Route)[keyof typeof Route];

/** The schemes parts read (tiering: r2 archives; sources: r2 files and URLs). */
export const SOURCE_SCHEMES: readonly string[] = ["r2", "https", "http"];

const WRITE = /^\s*(?:insert|update|delete|replace)\b/i;
const RETURNING = /returning/i;

/**
 * The route of one SQL text. Pure: it depends on the text alone (never on the parameters), so it
 * is computed once per distinct text. Words inside string literals, quoted names and comments
 * never count (sqlExtensions tokenizes the texts that mention `system_time` or `://`).
 */
export function routeOf(sql: string): Route {
  const uses = sqlExtensions(sql);
  if (uses.systemTime) return Route.TimeTravel;
  if (uses.schemes.some((s) => SOURCE_SCHEMES.includes(s))) return Route.Cold;
  // One statement (nothing after a `;` but space) that writes and returns nothing.
  const semi = sql.indexOf(";");
  if (WRITE.test(sql) && !RETURNING.test(sql) && (semi < 0 || sql.slice(semi + 1).trim() === ""))
    return Route.Write;
  return Route.Rows;
}

/** At most this many distinct SQL texts are remembered per actor (oldest forgotten first)... */
export const ROUTE_CACHE_SIZE = 512;
/** ...each at most this long (so the cache holds at most ~2 MB); longer texts are routed every time. */
export const ROUTE_CACHE_TEXT = 4096;

/** Something decided once per SQL text, bounded. A lookup is one Map.get (a constant string hashes once). */
export class TextCache<T> {
  readonly #known = new Map<string, T>();
  readonly #decide: (sql: string) => T;

  constructor(decide: (sql: string) => T) {
    this.#decide = decide;
  }

  get(sql: string): T {
    const known = this.#known.get(sql);
    if (known !== undefined) return known;
    const decided = this.#decide(sql);
    if (sql.length > ROUTE_CACHE_TEXT) return decided;
    if (this.#known.size >= ROUTE_CACHE_SIZE) this.#known.delete(this.#known.keys().next().value!);
    this.#known.set(sql, decided);
    return decided;
  }

  /** Replace what is known of a text (a decision found wrong on use); no new entry. */
  set(sql: string, value: T): void {
    if (this.#known.has(sql)) this.#known.set(sql, value);
  }

  get size(): number {
    return this.#known.size;
  }
}

/** Routes by SQL text, bounded (`decide` is `routeOf`; tests count the decisions). */
export class RouteCache extends TextCache<Route> {
  constructor(decide: (sql: string) => Route = routeOf) {
    super(decide);
  }
}
