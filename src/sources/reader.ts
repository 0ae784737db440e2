import { quoteIdent } from "../database";
import type { QueryRun, ScratchSource, SourceReader } from "../sql/scratch";
import { ScratchTable } from "../sql/scratch";
import type { ColumnFilter, SourceRef } from "../sql/sources";
import { type SourceBody, wholeBody } from "./body";
import type { SourceCache } from "./cache";
import type { ResolvedSources } from "./config";
import { Deadline } from "./deadline";
import { loadCsv } from "./formats/csv";
import { loadJson, loadNdjson } from "./formats/json";
import { loadParquet } from "./formats/parquet";
import { bucketOf, r2Body, r2Files, r2Parquet } from "./r2";
import { type Format, parseSpec, type SourceSpec } from "./ref";
import { checkRemote, fetchRemote } from "./remote";
import { RowSink } from "./sink";

export interface ReaderOptions {
  sql: SqlStorage;
  env: object;
  config: ResolvedSources;
  cache: SourceCache | undefined;
}

/**
 * The sources part's reader: `'https://…'`, `'http://…'` and `'r2://<binding>/<key or glob>'`
 * references (those tiering does not claim), each loaded into its scratch table by the one
 * scratch-table path (src/sql/scratch.ts). What may not be read is refused when the reference is
 * opened, before any row of any source is loaded.
 */
export function sourcesReader(options: ReaderOptions): SourceReader {
  return {
    schemes: ["https", "http", "r2"],
    open: (ref, _params, run) => openSource(options, ref, run),
  };
}

function openSource(options: ReaderOptions, ref: SourceRef, run: QueryRun): ScratchSource {
  const { config } = options;
  const spec = parseSpec(ref);
  const bucket = spec.scheme === "r2" ? bucketOf(spec, config, options.env) : undefined;
  if (spec.url) checkRemote(spec, config);
  const table = new ScratchTable(options.sql, "SOURCE_BAD_FORMAT");
  return {
    ref,
    load: async () => {
      const deadline = new Deadline(config.timeoutMs, spec.label);
      try {
        if (bucket) {
          for (const file of await r2Files(spec, bucket, config, deadline)) {
            if (spec.format === "parquet") {
              const opened = await r2Parquet(spec, bucket, file, config, deadline);
              await loadParquet(opened.label, opened.file, table, ref.filters, run, config.maxRows, deadline);
            } else
              await loadText(
                options,
                spec,
                spec.format!,
                await r2Body(spec, bucket, file, config, deadline),
                table,
                run,
                deadline,
                ref.filters,
              );
          }
        } else {
          const { body, format } = await fetchRemote(spec, config, options.cache, deadline);
          if (format === "parquet") {
            const bytes = await wholeBody(body, config.maxBytes, deadline);
            const file = bytes.buffer.slice(
              bytes.byteOffset,
              bytes.byteOffset + bytes.byteLength,
            ) as ArrayBuffer;
            await loadParquet(spec.label, file, table, ref.filters, run, config.maxRows, deadline);
          } else await loadText(options, spec, format, body, table, run, deadline, ref.filters);
        }
      } finally {
        deadline.clear();
      }
    },
    finish: () => table.ensure(spec.columns ?? []),
    replacement: () => quoteIdent(table.name),
    drop: () => table.drop(),
  };
}

async function loadText(
  options: ReaderOptions,
  spec: SourceSpec,
  format: Exclude<Format, "parquet">,
  body: SourceBody,
  table: ScratchTable,
  run: QueryRun,
  deadline: Deadline,
  filters: ColumnFilter[],
): Promise<void> {
  const { config } = options;
  const sink = new RowSink(table, run, config.maxRows, config.chunkRows, body.label, spec.columns, filters);
  if (format === "csv") await loadCsv(body, sink, config.maxBytes, deadline);
  else if (format === "ndjson") await loadNdjson(body, sink, config.maxBytes, deadline);
  else await loadJson(body, sink, Math.min(config.maxJsonBytes, config.maxBytes), spec.path, deadline);
}
