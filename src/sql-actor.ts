import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { Server } from "partyserver";
import { Database, type RunResult, type SqlParams } from "./database";
import { type ActorConfig, defineActor } from "./define-actor";
import { ActorError } from "./errors";
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

  constructor(ctx: DurableObjectState, env: Env & Cloudflare.Env) {
    super(ctx, env);
    const config = (new.target as unknown as typeof SqlActor).config;
    this.database = new Database(ctx.storage, config.schema as TSchema);
    guardPublicMethods(new.target, SqlActor);
    // Nothing is delivered to the object (request, RPC, alarm) before this finishes.
    void ctx.blockConcurrencyWhile(async () => {
      try {
        this.#migrations = applyMigrations(ctx.storage, config.migrations);
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

  query<T = Record<string, SqlStorageValue>>(sql: string, params?: SqlParams): T[] {
    this.assertReady();
    return this.database.query<T>(sql, params);
  }

  run(sql: string, params?: SqlParams): RunResult {
    this.assertReady();
    return this.database.run(sql, params);
  }

  transaction<T>(fn: () => T extends PromiseLike<unknown> ? never : T): T {
    this.assertReady();
    return this.database.transaction(fn);
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

function errorResponse(err: ActorError): Response {
  return Response.json({ error: { code: err.code, message: err.description } }, { status: err.status });
}
