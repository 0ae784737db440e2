// `dosql-actors/tiering`: R2 archive (Parquet), cold queries over 'r2://…', backups.
export type { ArchiveResult } from "./archive";
export type { BackupResult, RestoreResult } from "./backup";
export type { SourcePlan } from "./cold-query";
export type { ArchiveSpec, TieringConfig } from "./config";
export { type TieringPart, tiering } from "./part";
export { ArchiveStore, type StoreHooks } from "./r2-store";
export { type ManifestEntry, Tiering, type TieringOptions } from "./tiering";
