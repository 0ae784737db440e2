import { parseDuration as durationMs } from "../duration";
import { ActorError } from "../errors";

/** The `history` key of `defineActor`. */
export interface HistoryConfig {
  /** Tables whose inserts, updates and deletes are recorded: every user table, or a list. */
  tables: "all" | readonly string[];
  /**
   * Append-only tables (logs that are their own history), each with its time column (epoch ms).
   * They are not captured a second time: `FOR SYSTEM_TIME` reads them by that column, updates are
   * refused, restore/undo/merge leave them alone (a log keeps the record of a restore).
   */
  appendOnly?: Readonly<Record<string, string>>;
  /** Retention: an age ("30d", "12h", or ms) and/or the most changes to keep. Pruned by `history.prune()`. */
  retain?: string | number | { age?: string | number; maxChanges?: number };
  /** The namespace binding of this actor class, used by `branch()`; defaults to `ctx.exports[exportName]` (the class's `static exportName`, else its name). */
  binding?: string;
  /**
   * Index the WAL by (table, key): `rowHistory` and `undo`'s conflict check look rows up instead of
   * scanning the WAL, for one more index entry per change on every write. Off by default.
   */
  keyIndex?: boolean;
  /**
   * The grant of the live feed: tables whose changes WebSocket clients may receive on
   * `changes:<table>` (and `changes:*`), each with the columns they carry (`true`: every column).
   * Without it every `changes:` topic is refused. `canSubscribe` can narrow who may listen.
   */
  live?: Readonly<Record<string, true | readonly string[]>>;
}

export interface HistorySettings {
  tables: "all" | readonly string[];
  appendOnly: ReadonlyMap<string, string>;
  retainMs: number | undefined;
  maxChanges: number | undefined;
  binding: string | undefined;
  keyIndex: boolean;
  /** Live feed grant: table -> columns (undefined: every column). */
  live: ReadonlyMap<string, ReadonlySet<string> | undefined>;
}

/** "30d", "12h", "90m", "1500ms" or a number of ms. */
export function parseDuration(value: string | number, what: string): number {
  if (typeof value === "number" && Number.isFinite(value) && value > 0) return value;
  const ms = typeof value === "string" ? durationMs(value) : undefined;
  if (ms !== undefined) return ms;
  throw new ActorError(
    "INVALID_CONFIG",
    `${what} must be a positive duration like "30d", "12h" or a number of ms`,
  );
}

export function readHistoryConfig(config: HistoryConfig | undefined): HistorySettings | undefined {
  if (config === undefined) return undefined;
  if (!config || typeof config !== "object")
    throw new ActorError("INVALID_CONFIG", "history must be an object");
  const { tables, appendOnly = {}, retain, binding, keyIndex = false, live = {} } = config;
  if (
    tables !== "all" &&
    !(Array.isArray(tables) && tables.every((t) => typeof t === "string" && t.length > 0))
  )
    throw new ActorError("INVALID_CONFIG", 'history.tables must be "all" or a list of table names');
  if (typeof appendOnly !== "object" || appendOnly === null || Array.isArray(appendOnly))
    throw new ActorError("INVALID_CONFIG", "history.appendOnly must map table names to their time column");
  for (const [table, column] of Object.entries(appendOnly))
    if (typeof column !== "string" || column.length === 0)
      throw new ActorError("INVALID_CONFIG", `history.appendOnly.${table} must name a time column`);
  let retainMs: number | undefined;
  let maxChanges: number | undefined;
  if (typeof retain === "string" || typeof retain === "number")
    retainMs = parseDuration(retain, "history.retain");
  else if (retain !== undefined) {
    if (typeof retain !== "object" || retain === null)
      throw new ActorError("INVALID_CONFIG", "history.retain must be a duration or { age, maxChanges }");
    if (retain.age !== undefined) retainMs = parseDuration(retain.age, "history.retain.age");
    if (retain.maxChanges !== undefined) {
      if (!Number.isSafeInteger(retain.maxChanges) || retain.maxChanges < 1)
        throw new ActorError("INVALID_CONFIG", "history.retain.maxChanges must be a positive integer");
      maxChanges = retain.maxChanges;
    }
  }
  if (binding !== undefined && (typeof binding !== "string" || binding.length === 0))
    throw new ActorError("INVALID_CONFIG", "history.binding must name a Durable Object namespace binding");
  if (typeof keyIndex !== "boolean")
    throw new ActorError("INVALID_CONFIG", "history.keyIndex must be a boolean");
  if (typeof live !== "object" || live === null || Array.isArray(live))
    throw new ActorError("INVALID_CONFIG", "history.live must map table names to true or a list of columns");
  const grants = new Map<string, ReadonlySet<string> | undefined>();
  for (const [table, columns] of Object.entries(live)) {
    if (columns === true) grants.set(table, undefined);
    else if (Array.isArray(columns) && columns.every((c) => typeof c === "string" && c.length > 0))
      grants.set(table, new Set(columns));
    else throw new ActorError("INVALID_CONFIG", `history.live.${table} must be true or a list of columns`);
  }
  return {
    tables,
    appendOnly: new Map(Object.entries(appendOnly)),
    retainMs,
    maxChanges,
    binding,
    keyIndex,
    live: grants,
  };
}
