import { type ActorPart, PART, type PartHost, type PartInstance } from "../part";
import { queryOverSources, type SourceReader } from "../sql/scratch";
import { SourceCache } from "./cache";
import { resolveSources, type SourcesConfig } from "./config";
import "./errors";
import { sourcesReader } from "./reader";

/** `this.sources`: what the part reports (the cache's counters). */
export interface Sources {
  stats(): SourcesStats;
}

export interface SourcesStats {
  allow: string[];
  buckets: string[];
  cache: { entries: number; bytes: number; hits: number; revalidated: number } | null;
}

/** What SqlActor holds for `sources`: its reader, and statements routed to it when no tiering reads them. */
export interface SourcesPart extends PartInstance<Sources> {
  readonly api: Sources;
  readonly reader: SourceReader;
  query(sql: string, params: readonly unknown[]): Promise<unknown[]>;
}

/**
 * Virtual tables, as an opt-in part: `SELECT … FROM 'https://…'` and `FROM 'r2://<binding>/<key>'`
 * over JSON, NDJSON, CSV and Parquet inside `this.query`, joinable with the actor's own tables:
 *   import { sources } from "dosql-actors/sources";
 *   static config = defineActor({ schema, migrations,
 *     sources: sources({ allow: ["https://api.example.com"], buckets: ["DATA"] }) });
 * Nothing is readable by default. papaparse (CSV) comes with this entry point only; hyparquet
 * (Parquet) is loaded on first use. The config is checked here.
 */
export function sources(config: SourcesConfig = {}): ActorPart<Sources> {
  const resolved = resolveSources(config);
  return {
    [PART]: "sources",
    create(host: PartHost): SourcesPart {
      const cache = resolved.cache
        ? new SourceCache(resolved.cache.ttlMs, resolved.cache.maxBytes, resolved.cache.maxEntryBytes)
        : undefined;
      const reader = sourcesReader({ sql: host.ctx.storage.sql, env: host.env, config: resolved, cache });
      const stats = (): SourcesStats => ({
        allow: [...resolved.allow],
        buckets: [...resolved.buckets],
        cache: cache ? cache.stats() : null,
      });
      return {
        api: { stats },
        reader,
        stats,
        query: (sql, params) => {
          host.assertReady();
          return queryOverSources(
            host.ctx.storage,
            (text, p) => host.query(text, p),
            sql,
            params,
            host.readers(),
          );
        },
      };
    },
  };
}
