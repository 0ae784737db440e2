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
import { Database, type RunResult, type SqlParams, type TransactionOptions } from "./database";
import { type ActorConfig, defineActor } from "./define-actor";
import { ActorError } from "./errors";
import {
  type BranchResult,
  type ConflictPolicy,
  History,
  HistoryEngine,
  hasSystemTime,
  hasSystemTimeClause,
  type MergeResult,
  type PruneResult,
  type RestoreResult,
  readHistoryConfig,
  type WriteResult,
} from "./history/index";
import { applyMigrations, type MigrationReport } from "./migrations";
import { callQuietly, type QuietResult } from "./quiet";
import { ENTRY_POINTS, guardPublicMethods } from "./ready-guard";
import { Scheduler } from "./schedule";
import { type ActorStats, tableStats } from "./stats";
import { declareSchedules, scheduleResume, type TieringTask } from "./tiering/schedules";
import { Tiering } from "./tiering/tiering";

ActorError.defineStatus("ACTOR_DESTROYED", 410);

/** Names `_quietCall` refuses: the runtime's entry points, as for the scheduler. */
const RESERVED: ReadonlySet<string> = new Set(ENTRY_POINTS);

/** The schedule key of history retention. */
const HISTORY_RETENTION = "dosql:history:retention";

/**
 * The base class of every actor: a partyserver `Server` (hibernating WebSockets) that owns one
 * SQLite database. It only wires the parts together; each part lives in its own file.
 */
export class SqlActor<
  Env = Cloudflare.Env,
  TSchema extends Record<string, unknown> = Record<string, never>,
> extends Server<Env & Cloudflare.Env> {
  static override options = { hibernate: true };
  static config: ActorConfig<any> = defineActor({ schema: {} });

  readonly database: Database<TSchema>;
  /** Many timers on the one alarm: `at`, `every`, `cancel`, `list` (src/schedule.ts). */
  readonly schedule: Scheduler<this>;
  /** WebSocket connections: state, topics, presence (src/broadcast.ts). */
  readonly connections: Connections;
  /** R2 archive, cold queries, backups (src/tiering). */
  readonly tiering: Tiering;
  /** Why this actor cannot serve (a failed migration); every call answers it. */
  #startupError: ActorError | undefined;
  #migrations: MigrationReport = { applied: [], version: null };
  #history: HistoryEngine | undefined;
  /** History retention is on the schedule (checked after commits until it is). */
  #retentionArmed = false;
  #historyApi: History | undefined;
  #destroyed = false;
  /** First state of each WebSocket being accepted, from `identify()`, until `onConnect`. */
  readonly #joining = new WeakMap<Request, ConnectionState>();

  constructor(ctx: DurableObjectState, env: Env & Cloudflare.Env) {
    super(ctx, env);
    const actorClass = new.target as unknown as typeof SqlActor;
    const config = actorClass.config;
    this.database = new Database(ctx.storage, config.schema as TSchema);
    this.schedule = new Scheduler<this>(this, ctx.storage, config.schedules, ENTRY_POINTS);
    this.connections = new Connections(
      this,
      { ...config.connections, messages: config.messages },
      {
        canSubscribe: (connection, topic) => this.canSubscribe(connection, topic),
        onClientMessage: (connection, message) => this.onClientMessage(connection, message),
      },
    );
    // Heartbeats are answered by the runtime, without waking a hibernated actor.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    this.tiering = new Tiering({
      storage: ctx.storage,
      env: env as object,
      actorName: ctx.id.name ?? ctx.id.toString(),
      config: config.tiering,
      query: (sql, params) => this.database.query(sql, params),
      assertReady: () => this.assertReady(),
      // A restore runs under history when it is on: history keeps its WAL and records the restore.
      restoreHooks: () => this.#history?.restoreHooks(),
      afterRestore: () => {
        this.#migrations = applyMigrations(ctx.storage, config.migrations, {
          beforeApply: () => this.#history?.beforeMigrations(),
        });
        if (this.#migrations.applied.length) this.#history?.install();
      },
      scheduleResume: () => scheduleResume(this.tiering.config, this.schedule as never),
    });
    guardPublicMethods(new.target, SqlActor);
    const historySettings = readHistoryConfig(config.history);
    if (historySettings)
      this.#history = new HistoryEngine(
        {
          storage: ctx.storage,
          name: ctx.id.name,
          transaction: (fn, options) => this.database.transaction(fn as never, options),
          markWritten: () => this.database.markWritten(),
          schemaVersion: () => this.#migrations.version,
          live: {
            topics: () => Object.keys(this.connections.summary().topics),
            send: (message, topic) => {
              this.connections.broadcast(message, { topic });
            },
          },
          namespace: () =>
            historySettings.binding
              ? ((env as Record<string, unknown>)[historySettings.binding] as
                  | DurableObjectNamespace
                  | undefined)
              : ((ctx as { exports?: Record<string, unknown> }).exports?.[actorClass.name] as
                  | DurableObjectNamespace
                  | undefined),
        },
        historySettings,
      );
    // Nothing is delivered to the object (request, RPC, alarm) before this finishes.
    void ctx.blockConcurrencyWhile(async () => {
      try {
        this.#migrations = applyMigrations(ctx.storage, config.migrations, {
          beforeApply: () => this.#history?.beforeMigrations(),
        });
        if (this.#history) {
          this.#history.install();
          const hooks = this.#history.hooks();
          this.database.setWriteHooks({
            begin: (options) => hooks.begin(options),
            commit: (wrote) => {
              hooks.commit(wrote);
              if (wrote && !this.#retentionArmed) this.#armRetentionSafely();
            },
            rollback: () => hooks.rollback(),
            wrote: () => {
              hooks.wrote();
              if (!this.#retentionArmed) this.#armRetentionSafely();
            },
          });
        }
      } catch (err) {
        this.#startupError =
          ActorError.from(err) ??
          new ActorError("MIGRATION_FAILED", err instanceof Error ? err.message : String(err));
        return;
      }
      // Re-arm the alarm from the schedule table on every wake (alarms can be lost across reloads).
      await this.schedule.start();
      try {
        declareSchedules(this.tiering.config, this.schedule as never);
      } catch (err) {
        this.#startupError = new ActorError(
          "INVALID_CONFIG",
          `tiering schedules: ${ActorError.from(err)?.description ?? String(err)}`,
        );
      }
      // History retention runs on a schedule (idempotent by key; removed when retention is off),
      // from the first change on: an actor that was only looked up gets no task and no alarm.
      if (this.#history?.retentionInterval()) this.#armRetention();
      else this.schedule.cancel(HISTORY_RETENTION);
    });
  }

  /** How `actorStub()` calls a method: an ActorError comes back as a value, so nothing is logged (src/quiet.ts). */
  _quietCall(method: string, args: unknown[]): Promise<QuietResult> {
    return callQuietly(this, method, args, RESERVED);
  }

  /** Throws the startup error, if any: called first by every public method. */
  assertReady(): void {
    if (this.#startupError) throw this.#startupError;
    if (this.#destroyed) throw new ActorError("ACTOR_DESTROYED", "this actor has been destroyed");
  }

  /** drizzle, typed by the actor's schema. */
  get db(): DrizzleSqliteDODatabase<TSchema> {
    return this.database.db;
  }

  /**
   * Run a statement and return its rows. SQL reading an `'r2://…'` source (archived Parquet) is a
   * cold query and answers a Promise: give it as a literal (typed) or use `this.tiering.query`.
   */
  query<T = Record<string, SqlStorageValue>>(
    sql: `${string}'r2://${string}`,
    params?: SqlParams,
  ): Promise<T[]>;
  query<T = Record<string, SqlStorageValue>>(sql: string, params?: SqlParams): T[];
  query<T = Record<string, SqlStorageValue>>(sql: string, params?: SqlParams): T[] | Promise<T[]> {
    this.assertReady();
    if (typeof sql === "string" && this.tiering.readsArchive(sql)) return this.tiering.query<T>(sql, params);
    if (typeof sql === "string" && hasSystemTime(sql)) {
      if (this.#history) {
        const rewritten = this.#history.rewrite(sql, params ?? []);
        return this.database.query<T>(rewritten.sql, rewritten.params);
      }
      if (hasSystemTimeClause(sql)) throw historyDisabled();
    }
    return this.database.query<T>(sql, params);
  }

  run(sql: string, params?: SqlParams): RunResult {
    this.assertReady();
    return this.database.run(sql, params);
  }

  /** Atomic; with history on, every change inside shares one transaction id and `options.actor`. */
  transaction<T>(fn: () => T extends PromiseLike<unknown> ? never : T, options?: TransactionOptions): T {
    this.assertReady();
    return this.database.transaction(fn, options);
  }

  /** Change feed, row history, subscribers, retention; over RPC: `(await stub.history).changes()`. */
  get history(): History {
    this.#historyApi ??= new History(this.#history, () => this.assertReady());
    return this.#historyApi;
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
  merge(name: string, options?: { onConflict?: ConflictPolicy; actor?: string }): Promise<MergeResult> {
    return this.#historyEngine().merge(name, options ?? {});
  }

  /** Branch protocol (parent to branch); not for application use. */
  _historySeed(message: Parameters<HistoryEngine["seed"]>[0]): { rows: number } {
    return this.#historyEngine().seed(message);
  }

  _historyMergeSource(request: { fromLsn: number; version: string | null }) {
    return this.#historyEngine().mergeSource(request);
  }

  _historyMarkMerged(lsn: number): void {
    this.#historyEngine().markMerged(lsn);
  }

  /** Put history retention on the schedule once there is history to prune. */
  #armRetention(): void {
    const every = this.#history?.retentionInterval();
    if (!every || this.#destroyed || this.#startupError || this.#history!.summary().changes === 0) return;
    this.schedule.every(every, "pruneHistory" as never, undefined, { key: HISTORY_RETENTION });
    this.#retentionArmed = true;
  }

  /** From a commit hook: a failure to schedule must not roll back the caller's transaction. */
  #armRetentionSafely(): void {
    try {
      this.#armRetention();
    } catch (err) {
      console.error("could not schedule history retention", err);
    }
  }

  /** History retention, run by the schedule `defineActor({ history: { retain } })` sets up. */
  pruneHistory(): PruneResult | null {
    this.assertReady();
    return this.#history?.pruneAll() ?? null;
  }

  #historyEngine(): HistoryEngine {
    this.assertReady();
    if (!this.#history) throw historyDisabled();
    return this.#history;
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
      databaseBytes: this.database.size,
      ...tableStats(this.ctx.storage.sql),
      schemaVersion: this.#migrations.version,
      schedules: this.schedule.summary(),
      connections: this.connections.summary(),
      history: this.#history?.summary() ?? null,
    };
  }

  // ---- WebSockets (partyserver, hibernation on) ----

  /**
   * Send to every connection, or to one topic's subscribers, leaving out `except` (say, the
   * sender). Strings and bytes go as they are, anything else as JSON. Returns how many got it.
   */
  override broadcast(message: unknown, options?: BroadcastOptions | string[]): number {
    return this.connections.broadcast(message, Array.isArray(options) ? { except: options } : options);
  }

  /** Who is connected: one entry per connection. */
  presence(): PresenceEntry[] {
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
    if (topic.startsWith("changes:")) return this.#history?.liveAllows(topic) ?? false;
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
    this.assertReady();
    await this.tiering.runScheduled(task);
  }

  override async fetch(request: Request): Promise<Response> {
    if (this.#startupError) return errorResponse(this.#startupError);
    if (this.#destroyed)
      return errorResponse(new ActorError("ACTOR_DESTROYED", "this actor has been destroyed"));
    if (request.headers.get("Upgrade")?.toLowerCase() === "websocket") {
      try {
        this.#joining.set(request, this.connections.stateFor(await this.identify(request)));
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
      connection.send(JSON.stringify({ type: "error", code: known.code, message: known.description }));
      connection.close(1008, known.code);
      return;
    }
    await this.onJoin(actorConnection);
  }

  override onMessage(connection: Connection, message: WSMessage): Promise<void> {
    return this.connections.message(connection as ActorConnection, message);
  }

  override async onClose(connection: Connection): Promise<void> {
    this.connections.leave(connection as ActorConnection);
    await this.onLeave(connection as ActorConnection);
  }

  /**
   * The one alarm belongs to the scheduler: use `this.schedule` rather than `setAlarm`.
   * partyserver's `alarm()` runs first (it calls `onStart` once, then `onAlarm`).
   */
  override async alarm(): Promise<void> {
    if (this.#destroyed) return;
    this.assertReady();
    await super.alarm();
    await this.schedule.alarm();
  }

  override onAlarm(): void | Promise<void> {}

  /**
   * Delete this actor: every schedule, the alarm, all storage; open connections are closed.
   * The instance is then reset, so a run still in flight cannot write again, and the alarm it
   * was running is not retried (an alarm that revived a destroyed actor is a known defect
   * elsewhere). A later call starts a fresh, empty actor.
   */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
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

function historyDisabled(): ActorError {
  return new ActorError(
    "HISTORY_DISABLED",
    "history is not enabled for this actor (defineActor({ history }))",
  );
}

function errorResponse(err: ActorError): Response {
  return Response.json({ error: { code: err.code, message: err.description } }, { status: err.status });
}
