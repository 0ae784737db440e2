import { parseDuration } from "../duration";
import { ActorError } from "../errors";

/** `defineActor({ sources: sources({...}) })`: every key optional; the defaults refuse every source. */
export interface SourcesConfig {
  /**
   * Origins remote sources may come from, exactly as `new URL(u).origin` spells them
   * ("https://api.example.com"). Empty by default: every remote source is refused with
   * SOURCE_NOT_ALLOWED. An `http://` origin is read only when listed here.
   */
  allow?: string[];
  /** R2 bindings `'r2://<binding>/…'` may read (default none: SOURCE_NOT_ALLOWED). */
  buckets?: string[];
  /** Let listed origins name private, loopback or link-local addresses (default false). */
  allowPrivate?: boolean;
  /** Bytes read per source at most (default 64 MiB): SOURCE_TOO_LARGE past it. */
  maxBytes?: number;
  /** A JSON document (not NDJSON) is parsed whole: at most this many bytes (default 16 MiB). */
  maxJsonBytes?: number;
  /** Time per source, fetch and body included (default "10s"): SOURCE_TIMEOUT past it. */
  timeout?: number | string;
  /** Rows one query may load over all its sources (default 1,000,000): QUERY_TOO_LARGE past it. */
  maxRows?: number;
  /** Files one `r2://…*` glob may match (default 1,000): QUERY_TOO_LARGE past it. */
  maxFiles?: number;
  /** Rows held in memory before they are written to the scratch table (default 2,000). */
  chunkRows?: number;
  /** An optional TTL cache of fetched remote sources, revalidated with ETag / Last-Modified. */
  cache?: {
    /** Served without asking the origin for this long ("1m", or ms). */
    ttl: number | string;
    /** Bytes held over all entries (default 8 MiB; least recently used dropped first). */
    maxBytes?: number;
    /** Larger bodies are never cached (default 2 MiB). */
    maxEntryBytes?: number;
  };
}

export interface ResolvedSources {
  allow: Set<string>;
  buckets: Set<string>;
  allowPrivate: boolean;
  maxBytes: number;
  maxJsonBytes: number;
  timeoutMs: number;
  maxRows: number;
  maxFiles: number;
  chunkRows: number;
  cache: { ttlMs: number; maxBytes: number; maxEntryBytes: number } | undefined;
}

function invalid(message: string): ActorError {
  return new ActorError("INVALID_CONFIG", `sources.${message}`);
}

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0)
    throw invalid(`${name} must be a positive integer`);
  return value;
}

function duration(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = typeof value === "number" ? value : parseDuration(value as string);
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0)
    throw invalid(`${name} must be a duration like "10s" or ms`);
  return ms;
}

/** Checked when the class is defined (INVALID_CONFIG then, not on the first request). */
export function resolveSources(config: SourcesConfig | undefined): ResolvedSources {
  const c = config ?? {};
  if (typeof c !== "object") throw invalid("config must be an object");
  const allow = new Set<string>();
  for (const origin of c.allow ?? []) {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {}
    if (!url || (url.protocol !== "https:" && url.protocol !== "http:") || url.origin !== origin)
      throw invalid(`allow: ${JSON.stringify(origin)} is not an origin like "https://api.example.com"`);
    allow.add(origin);
  }
  const buckets = new Set<string>();
  for (const b of c.buckets ?? []) {
    if (typeof b !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(b))
      throw invalid("buckets must be binding names");
    buckets.add(b);
  }
  if (c.allowPrivate !== undefined && typeof c.allowPrivate !== "boolean")
    throw invalid("allowPrivate must be a boolean");
  if (c.cache !== undefined && (typeof c.cache !== "object" || c.cache?.ttl === undefined))
    throw invalid("cache needs a ttl");
  const cache =
    c.cache === undefined
      ? undefined
      : {
          ttlMs: duration("cache.ttl", c.cache.ttl, 0),
          maxBytes: positive("cache.maxBytes", c.cache.maxBytes, 8 << 20),
          maxEntryBytes: positive("cache.maxEntryBytes", c.cache.maxEntryBytes, 2 << 20),
        };
  return {
    allow,
    buckets,
    allowPrivate: c.allowPrivate ?? false,
    maxBytes: positive("maxBytes", c.maxBytes, 64 << 20),
    maxJsonBytes: positive("maxJsonBytes", c.maxJsonBytes, 16 << 20),
    timeoutMs: duration("timeout", c.timeout, 10_000),
    maxRows: positive("maxRows", c.maxRows, 1_000_000),
    maxFiles: positive("maxFiles", c.maxFiles, 1_000),
    chunkRows: positive("chunkRows", c.chunkRows, 2_000),
    cache,
  };
}
