import type { BroadcastConfig } from "./broadcast";
import { ActorError } from "./errors";
import type { FleetPart } from "./fleet/part";
import type { ForwardPart } from "./forward/part";
import type { History } from "./history/history";
import type { MigrationBundle } from "./migrations";
import { type ActorPart, isPart, type PartKey } from "./part";
import type { RpcPart } from "./rpc/index";
import { checkScheduleConfig, type ScheduleConfig } from "./schedule";
import type { Sources } from "./sources/part";
import type { Tiering } from "./tiering/tiering";

/**
 * Everything an actor declares about itself, in one static place:
 * `static config = defineActor({ schema, migrations })`.
 * Opt-in parts (history, tiering) are given under their own key, made by their own entry point
 * (see src/part.ts), so an actor bundles only the parts it configures.
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
  /** R2 tiering: `tiering({ binding, prefix, archive, backup, … })` from "dosql-actors/tiering". */
  tiering?: ActorPart<Tiering>;
  /** Virtual tables over URLs and R2 files: `sources({ allow, buckets, … })` from "dosql-actors/sources". */
  sources?: ActorPart<Sources>;
  /** Change capture, time travel, restore, branch/merge: `history({ tables, … })` from "dosql-actors/history". */
  history?: ActorPart<History>;
  /** Methods and live queries offered to sockets, by role: `rpc({ methods, live })` from `dosql-actors/rpc`. */
  rpc?: RpcPart;
  /** The outbox: `forward([...])` from "dosql-actors/forward" (needs `history`). */
  forward?: ForwardPart;
  /** Join the registry of this actor kind: `fleet("tenants")` from "dosql-actors/fleet". */
  fleet?: FleetPart;
}

/** The part keys, in the order SqlActor creates and calls them. */
export const PART_KEYS: readonly PartKey[] = ["history", "tiering", "sources"];

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
  for (const key of PART_KEYS)
    if (config[key] !== undefined && !isPart(config[key], key))
      throw new ActorError(
        "INVALID_CONFIG",
        `${key} must be made by ${key}(…) from "dosql-actors/${key}" (import { ${key} } from "dosql-actors/${key}")`,
      );
  if (config.rpc !== undefined && (config.rpc?.kind !== "rpc" || typeof config.rpc.create !== "function"))
    throw new ActorError("INVALID_CONFIG", "rpc must be made by rpc({ methods }) from dosql-actors/rpc");
  if (config.forward !== undefined && (config.forward?.kind !== "forward" || !config.history))
    throw new ActorError(
      "INVALID_CONFIG",
      'forward needs forward([...]) from "dosql-actors/forward" and history',
    );
  if (
    config.fleet !== undefined &&
    (config.fleet?.kind !== "fleet" || typeof config.fleet.create !== "function")
  )
    throw new ActorError("INVALID_CONFIG", 'fleet must be made by fleet("<kind>") from "dosql-actors/fleet"');
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
