import { ActorError } from "./errors";
import { type HistoryConfig, readHistoryConfig } from "./history/config";
import type { MigrationBundle } from "./migrations";

/**
 * Everything an actor declares about itself, in one static place:
 * `static config = defineActor({ schema, migrations })`.
 * Later parts (history, tiering, broadcast) add their own optional keys here.
 */
export interface ActorConfig<TSchema extends Record<string, unknown> = Record<string, unknown>> {
  /** drizzle tables (and relations) of the actor: types `this.db`. */
  schema: TSchema;
  /** drizzle-kit output for this actor (`import migrations from "./migrations/<actor>/migrations.js"`). */
  migrations?: MigrationBundle;
  /** Change capture, time travel, restore, branch/merge: `{ tables: "all" | [...], appendOnly?, retain? }`. */
  history?: HistoryConfig;
}

export function defineActor<TSchema extends Record<string, unknown>, TConfig extends ActorConfig<TSchema>>(
  config: TConfig & ActorConfig<TSchema>,
): TConfig {
  if (!config || typeof config !== "object")
    throw new ActorError("INVALID_CONFIG", "defineActor needs a config object");
  if (!config.schema || typeof config.schema !== "object")
    throw new ActorError("INVALID_CONFIG", "defineActor needs a schema object (drizzle tables)");
  if (config.migrations !== undefined && typeof config.migrations.migrations !== "object")
    throw new ActorError("INVALID_CONFIG", "migrations must be drizzle-kit's migrations.js default export");
  readHistoryConfig(config.history);
  return Object.freeze(config);
}
