import { type DrizzleSqliteDODatabase, drizzle } from "drizzle-orm/durable-sqlite";
import { ActorError } from "./errors";

export type SqlValue = string | number | null | ArrayBuffer | Uint8Array | boolean | bigint;
export type SqlParams = readonly unknown[];
export interface RunResult {
  changes: number;
  lastRowId: number;
}
export interface TransactionOptions {
  /** Who made the change: recorded with the transaction when history is on. */
  actor?: string;
}
/** Called around every outermost transaction (history uses them): begin and commit run inside it. */
export interface TransactionHooks {
  begin(options: TransactionOptions | undefined): void;
  commit(): void;
  rollback(): void;
}

/** Turn JS values into what DO SQLite binds: booleans as 0/1, Dates as epoch ms, undefined as NULL. */
function bindable(value: unknown): SqlStorageValue {
  if (value === undefined || value === null) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof Date) return value.getTime();
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "string" || typeof value === "number" || value instanceof ArrayBuffer) return value;
  if (ArrayBuffer.isView(value))
    return value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength) as ArrayBuffer;
  throw new ActorError("VALIDATION_FAILED", `cannot bind a value of type ${typeof value} to SQL`);
}

const NO_PARAMS: SqlStorageValue[] = [];

/**
 * The values to bind. Already bindable values (strings, numbers, null, ArrayBuffers: the common
 * case) are bound as given, without a copy; anything else is converted by `bindable`.
 */
function bindAll(params: SqlParams | undefined): readonly SqlStorageValue[] {
  if (params === undefined || params === null) return NO_PARAMS;
  if (!Array.isArray(params)) throw new ActorError("VALIDATION_FAILED", "SQL params must be an array");
  for (let i = 0; i < params.length; i++) {
    const value = params[i];
    const type = typeof value;
    if (type !== "string" && type !== "number" && value !== null && !(value instanceof ArrayBuffer))
      return params.map(bindable);
  }
  return params as readonly SqlStorageValue[];
}

/**
 * The database part of an actor: raw parameterised SQL, drizzle, and synchronous transactions.
 * Every statement goes straight to `ctx.storage.sql.exec`; nothing is cached or wrapped per row.
 */
export class Database<TSchema extends Record<string, unknown>> {
  readonly db: DrizzleSqliteDODatabase<TSchema>;
  readonly #storage: DurableObjectStorage;
  readonly #sql: SqlStorage;
  #hooks: TransactionHooks | undefined;
  #depth = 0;

  constructor(storage: DurableObjectStorage, schema: TSchema) {
    this.#storage = storage;
    this.#sql = storage.sql;
    // drizzle's `db.transaction` goes through `transaction` below, so it gets the same hooks;
    // everything else of the storage (`db.$client`) is the storage itself.
    const client = new Proxy(storage, {
      get: (target, prop) => {
        if (prop === "transactionSync") return <T>(fn: () => T) => this.transaction(fn as never) as T;
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    this.db = drizzle(client, { schema });
  }

  /** Install the begin/end hooks of every outermost transaction (one set at most). */
  setTransactionHooks(hooks: TransactionHooks | undefined): void {
    this.#hooks = hooks;
  }

  /**
   * Run a statement and return its rows. `rows: false` (SqlActor passes it for a single write
   * without RETURNING, see src/query-route.ts) leaves the cursor unread: exec has already run
   * such a statement to its end, so there is nothing to read.
   */
  query<T = Record<string, SqlStorageValue>>(sql: string, params?: SqlParams, rows = true): T[] {
    if (typeof sql !== "string" || sql.length === 0)
      throw new ActorError("VALIDATION_FAILED", "SQL must be a string");
    const cursor = this.#sql.exec(sql, ...bindAll(params));
    return rows ? (cursor.toArray() as T[]) : [];
  }

  /** Run a statement for its effect: rows changed and the last inserted rowid. */
  run(sql: string, params?: SqlParams, rows = true): RunResult {
    if (typeof sql !== "string" || sql.length === 0)
      throw new ActorError("VALIDATION_FAILED", "SQL must be a string");
    const cursor = this.#sql.exec(sql, ...bindAll(params));
    if (rows) cursor.toArray();
    const row = this.#sql.exec("SELECT changes() AS c, last_insert_rowid() AS r").one();
    return { changes: Number(row.c), lastRowId: Number(row.r) };
  }

  /**
   * Run `fn` atomically. `fn` must be synchronous: DO SQLite statements are synchronous, and
   * anything after an `await` would escape the transaction, so async callbacks are refused.
   */
  transaction<T>(fn: () => T extends PromiseLike<unknown> ? never : T, options?: TransactionOptions): T {
    if (typeof fn !== "function") throw new ActorError("VALIDATION_FAILED", "transaction needs a function");
    if (fn.constructor?.name === "AsyncFunction")
      throw new ActorError("ASYNC_TRANSACTION", "transaction callbacks must be synchronous");
    if (options !== undefined && (typeof options !== "object" || options === null))
      throw new ActorError("VALIDATION_FAILED", "transaction options must be an object");
    if (options?.actor !== undefined && (typeof options.actor !== "string" || options.actor.length > 256))
      throw new ActorError(
        "VALIDATION_FAILED",
        "transaction actor must be a string of at most 256 characters",
      );
    return this.#storage.transactionSync(() => {
      const hooks = this.#depth === 0 ? this.#hooks : undefined;
      this.#depth++;
      try {
        hooks?.begin(options);
        const result = fn();
        if (result && typeof (result as { then?: unknown }).then === "function")
          throw new ActorError("ASYNC_TRANSACTION", "transaction callbacks must not return a promise");
        hooks?.commit();
        return result;
      } catch (err) {
        hooks?.rollback();
        throw err;
      } finally {
        this.#depth--;
      }
    });
  }

  /** Bytes used by this actor's database. */
  get size(): number {
    return this.#sql.databaseSize;
  }
}

/** Quote an identifier that came from the schema (sqlite_master, drizzle), never from a request. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
