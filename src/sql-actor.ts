import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { Server } from "partyserver";
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
  type RestoreResult,
  readHistoryConfig,
  type WriteResult,
} from "./history/index";
import { applyMigrations, type MigrationReport } from "./migrations";
import { guardPublicMethods } from "./ready-guard";

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
  /** Why this actor cannot serve (a failed migration); every call answers it. */
  #startupError: ActorError | undefined;
  #migrations: MigrationReport = { applied: [], version: null };
  #history: HistoryEngine | undefined;
  #historyApi: History | undefined;

  constructor(ctx: DurableObjectState, env: Env & Cloudflare.Env) {
    super(ctx, env);
    const actorClass = new.target as unknown as typeof SqlActor;
    const config = actorClass.config;
    this.database = new Database(ctx.storage, config.schema as TSchema);
    guardPublicMethods(new.target, SqlActor);
    const historySettings = readHistoryConfig(config.history);
    if (historySettings)
      this.#history = new HistoryEngine(
        {
          storage: ctx.storage,
          name: ctx.id.name,
          transaction: (fn, options) => this.database.transaction(fn as never, options),
          schemaVersion: () => this.#migrations.version,
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
          this.database.setTransactionHooks(this.#history.hooks());
        }
      } catch (err) {
        this.#startupError =
          ActorError.from(err) ??
          new ActorError("MIGRATION_FAILED", err instanceof Error ? err.message : String(err));
      }
    });
  }

  /** Throws the startup error, if any: called first by every public method. */
  assertReady(): void {
    if (this.#startupError) throw this.#startupError;
  }

  /** drizzle, typed by the actor's schema. */
  get db(): DrizzleSqliteDODatabase<TSchema> {
    return this.database.db;
  }

  /** Rows of a statement; `FOR SYSTEM_TIME AS OF / BETWEEN / ALL` reads history (see src/history). */
  query<T = Record<string, SqlStorageValue>>(sql: string, params?: SqlParams): T[] {
    this.assertReady();
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

  /** Change feed, row history, subscribers, retention (also over RPC: `stub.history.changes()`). */
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

  override async fetch(request: Request): Promise<Response> {
    if (this.#startupError) return errorResponse(this.#startupError);
    return super.fetch(request);
  }

  override async alarm(): Promise<void> {
    this.assertReady();
    return super.alarm();
  }

  override onAlarm(): void | Promise<void> {}
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
