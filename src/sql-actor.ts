import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { type Connection, type ConnectionContext, Server, type WSMessage } from "partyserver";
import {
  type ActorConnection,
  type BroadcastOptions,
  type ConnectionIdentity,
  type ConnectionState,
  Connections,
  identityFromUrl,
  type PresenceEntry,
} from "./broadcast";
import { errorFrame } from "./broadcast/protocol";
import {
  assertCallerActor,
  Database,
  type RunResult,
  type SqlParams,
  type TransactionOptions,
} from "./database";
import { type ActorConfig, defineActor, PART_KEYS } from "./define-actor";
import { ActorError, sqlError } from "./errors";
import { exportNameOf } from "./export-name";
import type { FleetMember } from "./fleet/part";
import type { ReadOnlyResult } from "./fleet/read-only";
import type { MemberInfo } from "./fleet/types";
import type { Forwarding } from "./forward/forwarding";
import type { ForwardStatus } from "./forward/types";
import type { History } from "./history/history";
import type { HistoryPart } from "./history/part";
import type { PruneResult } from "./history/retention";
import type { BranchResult, MergeOptions, MergeResult, RestoreResult, WriteResult } from "./history/types";
import { allObservers, applyMigrations, type MigrationObserver, type MigrationReport } from "./migrations";
import type { PartHost, PartInstance, PartKey } from "./part";
import { Route, RouteCache, SOURCE_SCHEMES } from "./query-route";
import { callQuietly, type QuietResult } from "./quiet";
import { ENTRY_POINTS, guardPublicMethods } from "./ready-guard";
import type { RpcServer } from "./rpc/index";
import { Scheduler } from "./schedule";
import { sqlExtensions } from "./sql/extensions";
import { type ActorStats, tableStats } from "./stats";
import type { TieringPart } from "./tiering/part";
import type { TieringTask } from "./tiering/schedules";
import type { Tiering } from "./tiering/tiering";

ActorError.defineStatus("ACTOR_DESTROYED", 410);

/** Names `_quietCall` refuses: the runtime's entry points, as for the scheduler. */
const RESERVED: ReadonlySet<string> = new Set(ENTRY_POINTS);

/**
 * The base class of every actor: a partyserver `Server` (hibernating WebSockets) that owns one
 * SQLite database. It only wires the parts together; each part lives in its own file. Opt-in
 * parts (history, tiering) are not imported here: the config brings them (see src/part.ts).
 */
export class SqlActor<
  Env = Cloudflare.Env,
  TSchema extends Record<string, unknown> = Record<string, never>,
> extends Server<Env & Cloudflare.Env> {
  static override options = { hibernate: true };
  static config: ActorConfig<any> = defineActor({ schema: {} });
  /**
   * The name the Worker exports this class under (its `ctx.exports` key): the fleet registry and
   * history branches reach actors of this class by it. Defaults to the class's own `name`; declare
   * it when the Worker is minified without keeping names (wrangler `keep_names: false`), which
   * renames classes. Read off the class itself only, never inherited (src/export-name.ts).
   */
  static exportName?: string;

  readonly #database: Database<TSchema>;
  /** Many timers on the one alarm: `at`, `every`, `cancel`, `list` (src/schedule.ts). */
  readonly schedule: Scheduler<this>;
  /** WebSocket connections: state, topics, presence (src/broadcast.ts). */
  readonly connections: Connections;
  /**
   * Why this actor cannot serve (a failed migration, destroyed), or undefined: every call checks
   * this one field first.
   */
  #unavailable: ActorError | undefined;
  #migrations: MigrationReport = { applied: [], version: null };
  /** The configured parts, in the order of PART_KEYS (src/define-actor.ts). */
  readonly #parts: { key: PartKey; part: PartInstance }[] = [];
  #history: HistoryPart | undefined;
  #tiering: TieringPart | undefined;
  /** The outbox, when `defineActor({ forward })` declares forwards (src/forward). */
  #forward: Forwarding | undefined;
  /** Socket RPC and live queries, when `defineActor({ rpc })` offers methods (src/rpc). */
  #rpc: RpcServer | undefined;
  /** The fleet registry's member, when `defineActor({ fleet })` joins one (src/fleet). */
  #fleet: FleetMember | undefined;
  /** How each distinct SQL text runs (src/query-route.ts). */
  readonly #routes: RouteCache;
  /** First state of each WebSocket being accepted, from `identify()`, until `onConnect`. */
  readonly #joining = new WeakMap<Request, ConnectionState>();

  constructor(ctx: DurableObjectState, env: Env & Cloudflare.Env) {
    super(ctx, env);
    const actorClass = new.target as unknown as typeof SqlActor;
    const config = actorClass.config;
    this.#database = new Database(ctx.storage, config.schema as TSchema);
    this.schedule = new Scheduler<this>(this, ctx.storage, config.schedules, ENTRY_POINTS);
    this.connections = new Connections(
      this,
      { ...config.connections, messages: config.messages },
      {
        canSubscribe: (connection, topic) => this.canSubscribe(connection, topic),
        onClientMessage: (connection, message) => this.onClientMessage(connection, message),
        onFrame: (connection, frame) => this.#rpc?.frame(connection, frame) ?? false,
      },
    );
    // Heartbeats are answered by the runtime, without waking a hibernated actor.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    guardPublicMethods(new.target, SqlActor);
    const exportName = exportNameOf(actorClass);
    this.#createParts(config, env, exportName);
    if (this.#history && config.forward)
      this.#forward = config.forward.create({
        storage: ctx.storage,
        env,
        source: ctx.id.name ?? ctx.id.toString(),
        sourceId: ctx.id.toString(),
        history: this.#history.engine,
        schedule: this.schedule as never,
        method: (name) => ((this as any)[name] as Function | undefined)?.bind(this),
      });
    this.#rpc = config.rpc?.create({
      actor: this,
      isFrameworkMethod: (name) =>
        name in SqlActor.prototype || name.startsWith("_") || /^on[A-Z]/.test(name),
      sql: ctx.storage.sql,
      tracked: () => (this.#history ? this.#history.engine.tracking.captured : undefined),
      schemaVersion: () => this.#migrations.version,
      connections: () => this.connections.all(),
      state: (connection) => this.connections.state(connection),
      setState: (connection, state) => this.connections.setState(connection, state),
      send: (connection, frame) => this.connections.send(connection, frame),
      // Live queries follow the live feed's grant (history.live) and the `changes:<table>` topic's say.
      liveGrant: (table) => {
        const grants = this.#history?.engine.settings.live;
        return grants?.has(table) ? grants.get(table) : false;
      },
      canListen: (connection, table) => this.canSubscribe(connection, `changes:${table}`),
    });
    this.#fleet = config.fleet?.create({
      ctx,
      env,
      className: exportName,
      name: () => this.name,
      schemaVersion: () => this.#migrations.version,
      databaseBytes: () => this.#database.size,
    });
    this.#routes = new RouteCache();
    // Nothing is delivered to the object (request, RPC, alarm) before this finishes.
    void ctx.blockConcurrencyWhile(async () => {
      try {
        this.#migrations = applyMigrations(ctx.storage, config.migrations, this.#migrationObserver());
        this.#afterMigrations();
      } catch (err) {
        this.#unavailable =
          ActorError.from(err) ??
          new ActorError("MIGRATION_FAILED", err instanceof Error ? err.message : String(err));
        return;
      }
      // Re-arm the alarm from the schedule table on every wake (alarms can be lost across reloads).
      await this.schedule.start();
      for (const { part } of this.#parts) {
        try {
          part.start?.();
        } catch (err) {
          this.#unavailable ??=
            ActorError.from(err) ??
            new ActorError("INVALID_CONFIG", err instanceof Error ? err.message : String(err));
        }
      }
      try {
        this.#forward?.start();
      } catch (err) {
        this.#unavailable ??= ActorError.from(err) ?? new ActorError("INVALID_CONFIG", String(err));
      }
      // Tell the fleet registry in the background (never awaited by a call).
      if (this.#unavailable === undefined) this.#fleet?.woke(this.#migrations.applied.length);
    });
  }

  /** How `actorStub()` calls a method: an ActorError comes back as a value, so nothing is logged (src/quiet.ts). */
  _quietCall(method: string, args: unknown[]): Promise<QuietResult> {
    return callQuietly(this, method, args, RESERVED);
  }

  /** Every part after migrations (install); a part may answer the write hooks (history). */
  #afterMigrations(): void {
    for (const { part } of this.#parts) {
      const hooks = part.afterMigrations?.();
      if (hooks) this.#database.setWriteHooks(hooks);
    }
  }

  /** Create the parts the config declares (only those: an unconfigured part is never loaded). */
  #createParts(config: ActorConfig<any>, env: object, exportName: string): void {
    const host: PartHost = {
      ctx: this.ctx,
      env,
      exportName,
      query: (sql, params) => this.#database.query(sql, params),
      transaction: (fn, options) => this.#database.transaction(fn as never, options),
      markWritten: () => this.#database.markWritten(),
      assertReady: () => this.assertReady(),
      schemaVersion: () => this.#migrations.version,
      restored: () => {
        this.#migrations = applyMigrations(this.ctx.storage, config.migrations, this.#migrationObserver());
        if (this.#migrations.applied.length) this.#afterMigrations();
        // After the restore's transaction: the registry lists the database's size as restored.
        queueMicrotask(() => this.#fleet?.refresh());
      },
      // A restore runs under history when it is on: history keeps its WAL and records the restore.
      restoreHooks: () => {
        for (const { part } of this.#parts) {
          const hooks = part.restoreHooks?.();
          if (hooks) return hooks;
        }
        return undefined;
      },
      schedule: this.schedule as never,
      topics: () => Object.keys(this.connections.summary().topics),
      send: (message, topic) => {
        this.connections.broadcast(message, { topic });
      },
      committed: (from, last) => this.#rpc?.committed(from, last),
      readers: () => this.#parts.flatMap(({ part }) => (part.reader ? [part.reader] : [])),
    };
    for (const key of PART_KEYS) {
      const factory = config[key];
      if (!factory) continue;
      const part = factory.create(host);
      this.#parts.push({ key, part });
      if (key === "history") this.#history = part as HistoryPart;
      else if (key === "tiering") this.#tiering = part as TieringPart;
    }
  }

  /** What the parts do while migrations run (history, tiering), in PART_KEYS order. */
  #migrationObserver(): MigrationObserver | undefined {
    return allObservers(this.#parts.map(({ part }) => part.migrationObserver?.()));
  }

  /** Throws why the actor cannot serve, if it cannot: called first by every public method and entry point. */
  assertReady(): void {
    if (this.#unavailable !== undefined) throw this.#unavailable;
  }

  #notReady(): ActorError | undefined {
    return this.#unavailable;
  }

  /** query / run / transaction / drizzle (src/database.ts); refuses while the actor is not ready. */
  get database(): Database<TSchema> {
    this.assertReady();
    return this.#database;
  }

  /** drizzle, typed by the actor's schema; refuses while the actor is not ready. */
  get db(): DrizzleSqliteDODatabase<TSchema> {
    this.assertReady();
    return this.#database.db;
  }

  /**
   * Run a statement and return its rows. SQL reading an `'r2://…'` source (archived Parquet, or an
   * R2 file with the sources part) or an `'https://…'` one (sources) answers a Promise: give it as
   * a literal (typed) or use `this.tiering.query`.
   * Whether a text needs more than `sql.exec` is decided once per distinct text (src/query-route.ts).
   */
  query<T = Record<string, SqlStorageValue>>(
    sql: `${string}'${"r2" | "https" | "http"}://${string}`,
    params?: SqlParams,
  ): Promise<T[]>;
  query<T = Record<string, SqlStorageValue>>(sql: string, params?: SqlParams): T[];
  query<T = Record<string, SqlStorageValue>>(sql: string, params?: SqlParams): T[] | Promise<T[]> {
    if (this.#unavailable !== undefined) throw this.#unavailable;
    const route = typeof sql === "string" ? this.#routes.get(sql) : Route.Rows;
    let result: T[] | Promise<T[]>;
    try {
      if (route <= Route.Write) return this.#database.query<T>(sql, params, route === Route.Rows);
      result = this.#routed(route, sql, params ?? []) as T[] | Promise<T[]>;
    } catch (err) {
      throw sqlError(err);
    }
    return result instanceof Promise
      ? result.catch((err) => {
          throw sqlError(err);
        })
      : result;
  }

  /** SQLite's errors for the caller's SQL are typed (`SQL_ERROR`, 400), here and in `query`. */
  run(sql: string, params?: SqlParams): RunResult {
    if (this.#unavailable !== undefined) throw this.#unavailable;
    // Parts never take `run` (a cold query is async, time travel only reads): only the cursor is routed.
    const written = typeof sql === "string" && this.#routes.get(sql) === Route.Write;
    try {
      return this.#database.run(sql, params, !written);
    } catch (err) {
      throw sqlError(err);
    }
  }

  /**
   * A statement that needs a part: time travel (history), or `'scheme://…'` sources: run by the
   * first part with a reader (tiering, then sources) over every part's readers.
   */
  #routed(route: Route, sql: string, params: SqlParams): unknown[] | Promise<unknown[]> {
    if (route === Route.TimeTravel) {
      if (!this.#history) throw partDisabled("history");
      return this.#history.query(sql, params);
    }
    const readers = this.#parts.filter(({ part }) => part.reader);
    for (const scheme of sqlExtensions(sql).schemes) {
      if (!SOURCE_SCHEMES.includes(scheme)) continue;
      if (!readers.some(({ part }) => part.reader!.schemes.includes(scheme)))
        throw partDisabled(scheme === "r2" ? "tiering" : "sources");
    }
    return readers[0].part.query!(sql, params);
  }

  /** Atomic; with history on, every change inside shares one transaction id and `options.actor`. */
  transaction<T>(fn: () => T extends PromiseLike<unknown> ? never : T, options?: TransactionOptions): T {
    if (this.#unavailable !== undefined) throw this.#unavailable;
    if (options !== null && typeof options === "object") assertCallerActor(options.actor);
    return this.#database.transaction(fn, options);
  }

  /**
   * Change feed, row history, subscribers, retention; over RPC: `(await stub.history).changes()`.
   * HISTORY_DISABLED unless the config has `history: history({...})` from "dosql-actors/history".
   */
  get history(): History {
    this.assertReady();
    if (!this.#history) throw partDisabled("history");
    return this.#history.api;
  }

  /**
   * R2 archive, cold queries, backups (src/tiering). TIERING_DISABLED unless the config has
   * `tiering: tiering({...})` from "dosql-actors/tiering".
   */
  get tiering(): Tiering {
    this.assertReady();
    if (!this.#tiering) throw partDisabled("tiering");
    return this.#tiering.api;
  }

  /** Put tracked tables (or `options.tables`) back to their state at `timestamp`, as one recorded transaction. */
  restoreTo(
    timestamp: number | string | Date,
    options?: { tables?: string[]; actor?: string },
  ): RestoreResult {
    return this.#historyEngine().restoreTo(timestamp, options ?? {});
  }

  /** Revert one transaction; CONFLICT (listing the rows) when a later change touched its rows. */
  undo(txId: number, options?: { actor?: string }): WriteResult {
    return this.#historyEngine().undo(txId, options ?? {});
  }

  /** Create actor `name` of this class in this namespace, seeded with a snapshot of this one. */
  branch(name: string): Promise<BranchResult> {
    return this.#historyEngine().branch(name);
  }

  /** Three-way merge of branch `name`'s changes since the fork (or the last merge) into this actor. */
  merge(name: string, options?: MergeOptions): Promise<MergeResult> {
    return this.#historyEngine().merge(name, options ?? {});
  }

  /** Branch protocol (parent to branch); not for application use. */
  _historySeed(message: Parameters<HistoryPart["engine"]["seed"]>[0]): { rows: number } {
    return this.#historyEngine().seed(message);
  }

  _historyMergeSource(request: { fromLsn: number; version: string | null }) {
    return this.#historyEngine().mergeSource(request);
  }

  _historyMarkMerged(lsn: number): void {
    this.#historyEngine().markMerged(lsn);
  }

  /** History retention, run by the schedule `history({ retain })` sets up. */
  pruneHistory(): PruneResult | null {
    this.assertReady();
    return this.#history?.engine.pruneAll() ?? null;
  }

  /** Forwards (src/forward): deliver now instead of at the next schedule, and their status. */
  flushForward(name?: string): Promise<ForwardStatus[]> {
    return this.#forwarding().flush(name);
  }

  /**
   * Take a parked forward back into service (after fixing its target) and deliver now. `skipGap`:
   * a forward parked on a receiver gap (`status.gap`) goes on from the oldest change held.
   */
  resumeForward(name: string, options?: { skipGap?: boolean }): Promise<ForwardStatus> {
    return this.#forwarding().resume(name, options);
  }

  /** The scheduled delivery of a forward; not for application use. */
  _forwardDeliver(task: { name: string }): Promise<void> {
    return this.#forwarding().deliver(task?.name);
  }

  /** The fleet registry's wake-up call (migrateAll): not for application use. */
  _fleetInfo(): MemberInfo {
    return this.#fleetMember().info();
  }

  /** The fleet registry's read-only query (queryAll): not for application use. */
  _fleetQuery(sql: string, params: unknown[], rows: number): ReadOnlyResult {
    return this.#fleetMember().query(sql, params, rows);
  }

  #fleetMember(): FleetMember {
    this.assertReady();
    if (!this.#fleet)
      throw new ActorError("FLEET_DISABLED", "this actor is in no fleet (defineActor({ fleet }))");
    return this.#fleet;
  }

  #forwarding(): Forwarding {
    this.assertReady();
    if (!this.#forward)
      throw new ActorError("FORWARD_DISABLED", "this actor has no forwards (defineActor({ forward }))");
    return this.#forward;
  }

  #historyEngine(): HistoryPart["engine"] {
    this.assertReady();
    if (!this.#history) throw partDisabled("history");
    return this.#history.engine;
  }

  /** The newest migration applied, and those applied on this wake-up. */
  schemaVersion(): MigrationReport {
    this.assertReady();
    return { ...this.#migrations };
  }

  /** Database size, rows per table, schema version, schedules and connections. */
  stats(): ActorStats {
    this.assertReady();
    return {
      databaseBytes: this.#database.size,
      ...tableStats(this.ctx.storage.sql),
      schemaVersion: this.#migrations.version,
      schedules: this.schedule.summary(),
      connections: this.connections.summary(),
      history: null,
      forwards: this.#forward?.status() ?? [],
      ...Object.fromEntries(
        this.#parts.filter(({ part }) => part.stats).map(({ key, part }) => [key, part.stats!()]),
      ),
    };
  }

  // ---- WebSockets (partyserver, hibernation on) ----

  /**
   * Send to every connection, or to one topic's subscribers, leaving out `except` (say, the
   * sender). Strings and bytes go as they are, anything else as JSON. Returns how many got it.
   */
  override broadcast(message: unknown, options?: BroadcastOptions | string[]): number {
    this.assertReady();
    return this.connections.broadcast(message, Array.isArray(options) ? { except: options } : options);
  }

  /** Who is connected: one entry per connection. */
  presence(): PresenceEntry[] {
    this.assertReady();
    return this.connections.presence();
  }

  /**
   * Who is connecting, from the upgrade request; throw an ActorError to refuse (the client gets
   * an HTTP error). The default reads `?userId=&userName=&topics=` and authenticates nothing:
   * override it to trust only what your coordinator route verified.
   */
  identify(request: Request): ConnectionIdentity | Promise<ConnectionIdentity> {
    return identityFromUrl(request);
  }

  /**
   * May this connection listen to `topic`? Checked for `?topics=` at connect and for every
   * subscribe frame. Default: yes, except the live change feed: a `changes:<table>` topic only for
   * tables `history.live` grants (override to also decide who may listen).
   */
  canSubscribe(_connection: ActorConnection, topic: string): boolean | Promise<boolean> {
    if (topic.startsWith("changes:")) return this.#history?.engine.liveAllows(topic) ?? false;
    return true;
  }

  /** A client message that passed the `messages` schema of `defineActor`. */
  onClientMessage(_connection: ActorConnection, _message: unknown): void | Promise<void> {}

  /** A connection joined (its state is stored and presence sent). */
  onJoin(_connection: ActorConnection): void | Promise<void> {}

  /** A connection left. */
  onLeave(_connection: ActorConnection): void | Promise<void> {}

  /**
   * Entry point of scheduled tiering runs (configured archives and backups, and the continuation
   * of one that ran out of its step budget).
   */
  async tieringStep(task: TieringTask): Promise<void> {
    await this.tiering.runScheduled(task);
  }

  override async fetch(request: Request): Promise<Response> {
    if (this.#unavailable !== undefined) return errorResponse(this.#unavailable);
    if (request.headers.get("Upgrade")?.toLowerCase() === "websocket") {
      try {
        const state = this.connections.stateFor(await this.identify(request));
        this.#joining.set(request, this.#rpc ? this.#rpc.accept(request, state) : state);
      } catch (err) {
        const known = ActorError.from(err);
        if (!known) console.error("identify() failed", err);
        return errorResponse(known ?? new ActorError("INTERNAL", "could not identify the connection"));
      }
    }
    return super.fetch(request);
  }

  override async onConnect(connection: Connection, ctx: ConnectionContext): Promise<void> {
    const state = this.#joining.get(ctx.request) ?? this.connections.stateFor({});
    this.#joining.delete(ctx.request);
    const actorConnection = connection as ActorConnection;
    try {
      this.assertReady();
      // Topics asked for in the URL pass the same check as a subscribe frame.
      this.connections.join(actorConnection, { ...state, topics: [] });
      for (const topic of state.topics) {
        if (await this.canSubscribe(actorConnection, topic))
          this.connections.subscribe(actorConnection, topic);
        else
          connection.send(
            errorFrame(new ActorError("FORBIDDEN", `not allowed to subscribe to ${JSON.stringify(topic)}`)),
          );
      }
    } catch (err) {
      const known = ActorError.from(err) ?? new ActorError("INTERNAL", "could not accept the connection");
      connection.send(errorFrame(known));
      connection.close(1008, known.code);
      return;
    }
    await this.onJoin(actorConnection);
  }

  override async onMessage(connection: Connection, message: WSMessage): Promise<void> {
    // Sockets accepted before a deploy whose migration failed still send frames: refuse them.
    const refusal = this.#notReady();
    if (refusal) connection.send(errorFrame(refusal));
    else await this.connections.message(connection as ActorConnection, message);
  }

  override async onClose(connection: Connection): Promise<void> {
    if (this.#notReady()) return;
    this.#rpc?.closed(connection as ActorConnection);
    this.connections.leave(connection as ActorConnection);
    await this.onLeave(connection as ActorConnection);
  }

  /**
   * The one alarm belongs to the scheduler: use `this.schedule` rather than `setAlarm`.
   * partyserver's `alarm()` runs first (it calls `onStart` once, then `onAlarm`).
   */
  override async alarm(): Promise<void> {
    if (this.#unavailable?.code === "ACTOR_DESTROYED") return;
    this.assertReady();
    await super.alarm();
    await this.schedule.alarm();
    for (const { part } of this.#parts) await part.alarm?.();
  }

  override onAlarm(): void | Promise<void> {}

  /**
   * Delete this actor: every schedule, the alarm, all storage; open connections are closed.
   * The instance is then reset, so a run still in flight cannot write again, and the alarm it
   * was running is not retried (an alarm that revived a destroyed actor is a known defect
   * elsewhere). A later call starts a fresh, empty actor.
   */
  async destroy(): Promise<void> {
    if (this.#unavailable?.code === "ACTOR_DESTROYED") return;
    this.#unavailable = new ActorError("ACTOR_DESTROYED", "this actor has been destroyed");
    this.schedule.stop();
    for (const connection of this.getConnections()) {
      try {
        connection.close(1001, "actor destroyed");
      } catch {}
    }
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    setTimeout(() => this.ctx.abort("actor destroyed", { retryAlarm: false }), 0);
  }
}

/** HISTORY_DISABLED / TIERING_DISABLED / SOURCES_DISABLED: the part is not in this actor's config. */
function partDisabled(key: PartKey): ActorError {
  return new ActorError(
    `${key.toUpperCase()}_DISABLED`,
    `${key} is not enabled for this actor (defineActor({ ${key}: ${key}({...}) }) with import { ${key} } from "dosql-actors/${key}")`,
  );
}

function errorResponse(err: ActorError): Response {
  return Response.json({ error: { code: err.code, message: err.description } }, { status: err.status });
}
