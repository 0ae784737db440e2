import type { TransactionOptions, WriteHooks } from "./database";
import type { MigrationObserver } from "./migrations/apply-one";
import type { SourceReader } from "./sql/scratch";
import type { RestoreHooks } from "./tiering/backup";

/**
 * The seam every opt-in part plugs into (history, tiering; later forward, sources, rpc).
 *
 * Pay for what you use: `src/sql-actor.ts` imports no part. A part is reached only through its own
 * entry point (`import { history } from "dosql-actors/history"`) and handed to `defineActor`
 * under its key, in the spirit of hono's middleware:
 *
 *   static config = defineActor({ schema, migrations, history: history({ tables: "all" }) });
 *
 * so an actor that does not configure a part never bundles or runs its code.
 *
 * How a part plugs in:
 * 1. Its factory (`history(config)`) checks the config when the class is defined (INVALID_CONFIG
 *    then, not on the first request) and returns an `ActorPart`: `{ [PART]: key, create }`.
 * 2. Each actor instance calls `create(host)` once, in its constructor. `host` is what the part
 *    may use of the actor (storage, env, the actor's transaction and scheduler, sockets); a part
 *    never imports sql-actor.ts.
 * 3. The returned `PartInstance` may implement any of the hooks below. SqlActor calls them, in the
 *    order of PART_KEYS (src/define-actor.ts), at these points:
 *    - `migrationObserver()` / `afterMigrations()`: inside `blockConcurrencyWhile`, around pending
 *      migrations, before any request (and again when a restore re-applies migrations). Each
 *      part's observer (history's, tiering's) is told each statement's schema change and writes.
 *      `afterMigrations` may return the write hooks (at most one part may: history), told where
 *      every transaction and write begins and ends (src/database.ts).
 *    - `restoreHooks()`: how a restore of the whole database runs under this part.
 *    - `start()`: after the scheduler re-armed its alarm: declare the part's schedules. A throw
 *      makes every call answer INVALID_CONFIG.
 *    - `query(sql, params)`: statements routed to the part (src/query-route.ts decides once per
 *      distinct SQL text): `FOR SYSTEM_TIME` goes to `history`; `'r2://…'` / `'https://…'` sources to the first
 *      part with a `reader` (tiering, then sources), which runs them over every part's readers.
 *    - `alarm()`: after the scheduler ran its due tasks, on every alarm.
 *    - `stats()`: reported under the part's key in `stats()`.
 *    - `api`: the object behind `this.<key>` (`this.history`, `this.tiering`).
 */
export const PART: unique symbol = Symbol.for("dosql-actors.part");

/** The keys of `defineActor` that hold parts (one per part; more later: forward, sources, rpc). */
export type PartKey = "history" | "tiering" | "sources";

export interface ActorPart<TApi = unknown> {
  readonly [PART]: PartKey;
  create(host: PartHost): PartInstance<TApi>;
}

export interface PartInstance<TApi = unknown> {
  readonly api?: TApi;
  migrationObserver?(): MigrationObserver | undefined;
  afterMigrations?(): WriteHooks | undefined;
  /** How a backup restore (tiering) runs under this part (history keeps its WAL through it). */
  restoreHooks?(): RestoreHooks | undefined;
  start?(): void;
  query?(sql: string, params: readonly unknown[]): unknown[] | Promise<unknown[]>;
  /**
   * The `'<scheme>://…'` references this part reads (tiering: its R2 archive; sources: URLs and R2
   * files). A statement reading any is run by the first part (in PART_KEYS order) with a reader,
   * over every part's readers (`host.readers()`), through src/sql/scratch.ts.
   */
  readonly reader?: SourceReader;
  alarm?(): void | Promise<void>;
  stats?(): unknown;
}

/** What a part may use of its actor. */
export interface PartHost {
  readonly ctx: DurableObjectState;
  readonly env: object;
  /** The actor class's export name (its `ctx.exports` key: branches create actors of the same class). */
  readonly exportName: string;
  /** The actor's raw parameterised query (no routing, no ready check). */
  query<T = Record<string, SqlStorageValue>>(sql: string, params?: readonly unknown[]): T[];
  /** The actor's `this.transaction` (hooks included). */
  transaction<T>(fn: () => T, options?: TransactionOptions): T;
  /** Inside `transaction`: the part's own writes on `ctx.storage.sql` wrote rows (see Database). */
  markWritten(): void;
  /** The first part's `restoreHooks()`, for a part that replaces the database (tiering's restore). */
  restoreHooks(): RestoreHooks | undefined;
  /** Throws when the actor cannot serve (failed migration, destroyed). */
  assertReady(): void;
  /** The newest migration applied. */
  schemaVersion(): string | null;
  /**
   * A restore replaced the database (called inside its transaction): the actor re-applies its
   * migrations, and once the transaction is over tells the fleet registry the restored size.
   */
  restored(): void;
  /** `this.schedule`, structurally: parts schedule actor methods by name. */
  readonly schedule: PartScheduler;
  /** WebSocket topics someone listens to, and a way to send to one. */
  topics(): string[];
  send(message: unknown, topic: string): void;
  /** Every configured part's reader, in PART_KEYS order. */
  readers(): SourceReader[];
  /** After a commit that history recorded, LSNs `from`..`last` (socket RPC's live queries). */
  committed(from: number, last: number): void;
}

export interface PartScheduler {
  every(every: number | string, method: string, payload: unknown, options: { key: string }): unknown;
  at(when: number, method: string, payload: unknown, options: { key: string }): unknown;
  cancel(idOrKey: string): boolean;
  list(): { key: string | null }[];
}

export function isPart(value: unknown, key: PartKey): value is ActorPart {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { [PART]?: unknown })[PART] === key &&
    typeof (value as ActorPart).create === "function"
  );
}
