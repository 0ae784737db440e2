import { sourcesIn } from "./sources";
import { isKeyword, significant, tokenize } from "./tokens";

/** What of the framework's SQL extensions a statement uses: what `this.query` must rewrite. */
export interface SqlExtensions {
  /** A real `FOR SYSTEM_TIME` clause (not in a string, a quoted name or a comment). */
  systemTime: boolean;
  /** Schemes of the `'<scheme>://…'` sources in FROM/JOIN position ("r2", …), lower case. */
  schemes: readonly string[];
}

const NONE: SqlExtensions = Object.freeze({ systemTime: false, schemes: Object.freeze([]) });
const CACHE_SIZE = 256;
const cache = new Map<string, SqlExtensions>();

/**
 * One scan of the SQL text answers it, and only the text matters (not the parameters), so the
 * answer is cached per SQL string. Plain SQL (no `://`, no `system_time`) costs two substring
 * searches and no tokenizing: that is the query hot path.
 */
export function sqlExtensions(sql: string): SqlExtensions {
  if (!sql.includes("://") && !/system_time/i.test(sql)) return NONE;
  const known = cache.get(sql);
  if (known) return known;
  const tokens = significant(tokenize(sql));
  const systemTime = tokens.some((t, i) => isKeyword(t, "FOR") && isKeyword(tokens[i + 1], "SYSTEM_TIME"));
  const schemes = [
    ...new Set(
      sourcesIn(tokens, [])
        .map((s) => s.scheme)
        .filter((s) => s !== undefined),
    ),
  ];
  const found: SqlExtensions = systemTime || schemes.length ? { systemTime, schemes } : NONE;
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(sql, found);
  return found;
}
