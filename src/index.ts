export * from "./coordinator/index";
export { Database, quoteIdent, type RunResult, type SqlParams, type SqlValue } from "./database";
export { type ActorConfig, defineActor } from "./define-actor";
export { ActorError, badInput, type ErrorDetails } from "./errors";
export { applyMigrations, type MigrationBundle, type MigrationReport } from "./migrations";
export { SqlActor } from "./sql-actor";
export * from "./tiering/index";
