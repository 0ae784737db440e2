// `dosql-actors/sources`: virtual tables over JSON, NDJSON, CSV and Parquet from https:// and r2://.
export type { SourcesConfig } from "./config";
export { type Sources, type SourcesPart, type SourcesStats, sources } from "./part";
export type { Format } from "./ref";
