import type { BroadcastConfig } from "./broadcast";
import { ActorError } from "./errors";
import { type HistoryConfig, readHistoryConfig } from "./history/config";
import type { MigrationBundle } from "./migrations";
import type { RpcPart } from "./rpc/index";
import { checkScheduleConfig, type ScheduleConfig } from "./schedule";
import { resolveTiering, type TieringConfig } from "./tiering/config";

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
  /** Retry, backoff, lease and dead-letter policy of `this.schedule` (see src/schedule.ts). */
  schedules?: ScheduleConfig;
  /** zod/mini schema of the JSON messages clients send over WebSockets (handled by `onClientMessage`). */
  messages?: BroadcastConfig["messages"];
  /** WebSocket policy: presence events, message size and topic limits (see src/broadcast.ts). */
  connections?: Omit<BroadcastConfig, "messages">;
  /** R2 tiering: binding, prefix, cold-query limits, scheduled archives and backups (src/tiering/config.ts). */
  tiering?: TieringConfig;
  /** Change capture, time travel, restore, branch/merge: `{ tables: "all" | [...], appendOnly?, retain? }`. */
  history?: HistoryConfig;
  /** Methods and live queries offered to sockets, by role: `rpc({ methods, live })` from `dosql-actors/rpc`. */
  rpc?: RpcPart;
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
  if (config.schedules !== undefined) {
    try {
      checkScheduleConfig(config.schedules);
    } catch (err) {
      throw new ActorError("INVALID_CONFIG", ActorError.from(err)?.description ?? String(err));
    }
  }
  if (
    config.messages !== undefined &&
    typeof (config.messages as { safeParse?: unknown })?.safeParse !== "function"
  )
    throw new ActorError("INVALID_CONFIG", "messages must be a zod/mini schema");
  checkConnections(config.connections);
  if (config.tiering !== undefined) resolveTiering(config.tiering);
  readHistoryConfig(config.history);
  if (config.rpc !== undefined && (config.rpc?.kind !== "rpc" || typeof config.rpc.create !== "function"))
    throw new ActorError("INVALID_CONFIG", "rpc must be made by rpc({ methods }) from dosql-actors/rpc");
  return Object.freeze(config);
}

function checkConnections(connections: ActorConfig["connections"]): void {
  if (connections === undefined) return;
  if (connections === null || typeof connections !== "object")
    throw new ActorError("INVALID_CONFIG", "connections must be an object");
  if (connections.presence !== undefined && typeof connections.presence !== "boolean")
    throw new ActorError("INVALID_CONFIG", "connections.presence must be a boolean");
  for (const key of ["maxMessageBytes", "maxTopics"] as const) {
    const value = connections[key];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 1))
      throw new ActorError("INVALID_CONFIG", `connections.${key} must be a whole number >= 1`);
  }
}
