// `dosql-actors/actors/regional-analytics`: the RegionalAnalytics actor alone (its routes are
// `dosql-actors/actors/regional-analytics/routes`). Classes and types only (a Worker may `export *`).
export {
  type IngestResult as AnalyticsIngestResult,
  type PruneResult,
  RegionalAnalytics,
  type RollupResult,
  type SyncResult,
} from "./regional-analytics";
export type { DailyRow, HistoricalResult, MinuteRow, QueryResult, RealtimeResult } from "./results";
