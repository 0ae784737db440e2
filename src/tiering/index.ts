export type { ArchiveResult } from "./archive";
export type { BackupResult, RestoreResult } from "./backup";
export type { SourcePlan } from "./cold-query";
export type { ArchiveSpec, TieringConfig } from "./config";
export { ArchiveStore, type StoreHooks } from "./r2-store";
export { type ManifestEntry, Tiering, type TieringOptions } from "./tiering";
