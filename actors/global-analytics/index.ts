// `dosql-actors/actors/global-analytics`: the GlobalAnalytics actor alone (its routes are
// `dosql-actors/actors/global-analytics/routes`). Classes and types only (a Worker may `export *`).
export { GlobalAnalytics } from "./global-analytics";
export type { ColumnsResult, DayMetrics, Figures as GlobalFigures, MetricsResult } from "./results";
