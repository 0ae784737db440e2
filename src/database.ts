import { type DrizzleSqliteDODatabase, drizzle } from "drizzle-orm/durable-sqlite";
import { ActorError } from "./errors";
import { TextCache } from "./query-route";
import { bindBigints, type RunPlan, runPlanOf } from "./sql-statement";

export type SqlValue = string | number | null | ArrayBuffer | Uint8Array | boolean | bigint;
export type SqlParams = readonly unknown[];
export interface RunResult {
  changes: number;
  lastRowId: number;
}
/**
 * The actor the tiering archive records its deletes under (src/tiering/part.ts): rows deleted in
 * such a transaction were moved to R2, not lost, so history's restore, undo and merge tell them
 * apart (src/history/archived.ts). Reserved: callers cannot name their own transactions so.
 */
export const ARCHIVE_ACTOR = "archive";

/** Refuse the reserved actor name from a caller. */
export function assertCallerActor(actor: unknown): void {
  if (actor === ARCHIVE_ACTOR)
    throw new ActorError(
      "VALIDATION_FAILED",
      `the actor name ${JSON.stringify(ARCHIVE_ACTOR)} is reserved for the archive`,
    );
}

export interface TransactionOptions {
  /** Who made the change: recorded with the transaction when history is on. */
  actor?: string;
}

/**
 * What a consumer of the write path (history) is told. `Database` owns every transaction and
 * every statement of the actor's API (`query`, `run`, `transaction`, drizzle), so it can say where
 * each one begins and ends; it never wraps or patches the runtime's storage objects.
 */
export interface WriteHooks {
  /** An outermost transaction begins (inside `transactionSync`). */
  begin(options: TransactionOptions | undefined): void;
  /** It is about to commit (still inside): `wrote` says whether any of its statements wrote rows. */
  commit(wrote: boolean): void;
  /** It threw: everything it wrote is rolled back. */
  rollback(): void;
  /** A statement outside any transaction wrote rows (it has run). */
  wrote(): void;
  /**
   * Could a statement with this text that wrote rows have written something the consumer must
   * see? Asked only after a statement wrote rows; absent means yes. A no is the consumer's
   * promise that `commit`/`wrote` would do nothing for it (history: only untracked tables).
   */
  captures?(sql: string): boolean;
}

/**
 * Turn JS values into what DO SQLite binds: booleans as 0/1, Dates as epoch ms, undefined as NULL.
 * NaN (a number, or an invalid Date's time) is refused: SQLite would store it as NULL, silently.
 */
function bindable(value: unknown): SqlStorageValue {
  if (value === undefined || value === null) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new ActorError("VALIDATION_FAILED", "cannot bind an invalid Date to SQL");
    return ms;
  }
  if (typeof value === "number") {
    if (Number.isNaN(value)) throw new ActorError("VALIDATION_FAILED", "cannot bind NaN to SQL");
    return value;
  }
  if (typeof value === "string" || value instanceof ArrayBuffer) return value;
  if (ArrayBuffer.isView(value))
    return value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength) as ArrayBuffer;
  throw new ActorError("VALIDATION_FAILED", `cannot bind a value of type ${typeof value} to SQL`);
}

function checkSql(sql: unknown): asserts sql is string {
  if (typeof sql !== "string" || sql.length === 0)
    throw new ActorError("VALIDATION_FAILED", "SQL must be a string");
}

/**
 * The database part of an actor: raw parameterised SQL, drizzle, and synchronous transactions.
 * Every statement goes straight to `ctx.storage.sql.exec`; nothing is cached or wrapped per row.
 */
export class Database<TSchema extends Record<string, unknown>> {
  readonly db: DrizzleSqliteDODatabase<TSchema>;
  readonly #storage: DurableObjectStorage;
  readonly #sql: SqlStorage;
  #hooks: WriteHooks | undefined;
  /** How `run()` learns its result, per SQL text (src/sql-statement.ts). */
  readonly #plans = new TextCache<RunPlan>(runPlanOf);
  #depth = 0;
  /** In the current outermost transaction, some statement wrote rows. */
  #wrote = false;
  /** drizzle's cursors (it reads them after `exec` returns): checked for writes at commit. */
  #cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
  /** A drizzle statement outside a transaction, not yet checked for writes. */
  #unchecked: SqlStorageCursor<Record<string, SqlStorageValue>> | undefined;

  constructor(storage: DurableObjectStorage, schema: TSchema) {
    this.#storage = storage;
    this.#sql = storage.sql;
    // drizzle's client: its statements and its `db.transaction` are this object's, so they get
    // the same hooks. A plain object with the two members drizzle uses, not a wrapped storage.
    const client = {
      sql: { exec: (sql: string, ...bindings: unknown[]) => this.#drizzleExec(sql, bindings) },
      transactionSync: <T>(fn: () => T): T => this.transaction(fn as never) as T,
    };
    this.db = drizzle(client as unknown as DurableObjectStorage, { schema });
  }

  /** Install the consumer of the write path (history; one at most). */
  setWriteHooks(hooks: WriteHooks | undefined): void {
    this.#hooks = hooks;
  }

  /**
   * Run a statement and return its rows. `rows: false` (SqlActor passes it for a single write
   * without RETURNING, see src/query-route.ts) leaves the cursor unread: exec has already run
   * such a statement to its end, so there is nothing to read.
   */
  query<T = Record<string, SqlStorageValue>>(sql: string, params?: SqlParams, rows = true): T[] {
    checkSql(sql);
    const cursor = this.#exec(sql, params);
    const result = rows ? (cursor.toArray() as T[]) : [];
    if (this.#hooks) this.#noteWrite(cursor, sql);
    return result;
  }

  /**
   * Run a statement for its effect: rows changed and the rowid it inserted. Exact after any
   * statement, and in one statement when it can be: a single INSERT/UPDATE/DELETE runs with a
   * RETURNING clause of its own (see `runPlanOf`), whose rows are its changes. Otherwise
   * `changes()` and `last_insert_rowid()` are read just after it (they describe the last
   * INSERT/UPDATE/DELETE run on the connection); after anything that writes no rows (DDL, a
   * SELECT) this answers 0 without asking them. `lastRowId` is 0 unless the statement inserts.
   */
  run(sql: string, params?: SqlParams, rows = true): RunResult {
    checkSql(sql);
    const plan = this.#plans.get(sql);
    if (plan.kind === "returning" && (plan.checked || this.#checkPlan(plan, sql, params))) {
      let cursor: SqlStorageCursor<Record<string, SqlStorageValue>>;
      try {
        cursor = this.#exec(plan.sql, params);
      } catch (err) {
        if (this.#prepares(plan.sql, params) || !this.#prepares(sql, params)) throw err;
        // The schema changed under the text (say, now WITHOUT ROWID): never run; ask instead.
        this.#plans.set(sql, { kind: "ask", insert: plan.insert });
        return this.run(sql, params, rows);
      }
      // One call reads every row (an iterator would cross into the runtime once a row, and more).
      const changed = cursor.toArray();
      const changes = changed.length;
      if (this.#hooks) this.#noteWrite(cursor, sql);
      return { changes, lastRowId: plan.insert && changes > 0 ? Number(changed[changes - 1].r) : 0 };
    }
    const cursor = this.#exec(sql, params);
    if (rows) cursor.toArray();
    let result: RunResult = { changes: 0, lastRowId: 0 };
    if (plan.kind !== "none") {
      // Read before the hooks run anything else on the connection.
      const row = this.#sql.exec("SELECT changes() AS c, last_insert_rowid() AS r").one();
      const changes = Number(row.c);
      result = { changes, lastRowId: plan.insert && changes > 0 ? Number(row.r) : 0 };
    }
    if (this.#hooks) this.#noteWrite(cursor, sql);
    return result;
  }

  /**
   * First use of a RETURNING plan: does the rewritten text prepare (EXPLAIN runs nothing)? If not
   * while the text itself does, the text is asked after from now on. If neither prepares, the
   * plan stays unchecked and the text runs as given (and fails with its own error).
   */
  #checkPlan(plan: RunPlan & { kind: "returning" }, sql: string, params: SqlParams | undefined): boolean {
    if (this.#prepares(plan.sql, params)) {
      plan.checked = true;
      return true;
    }
    if (this.#prepares(sql, params)) this.#plans.set(sql, { kind: "ask", insert: plan.insert });
    return false;
  }

  #prepares(sql: string, params: SqlParams | undefined): boolean {
    try {
      // Read to its end: an unfinished cursor keeps its statement open (and blocks the commit).
      this.#exec(`EXPLAIN ${sql}`, params).toArray();
      return true;
    } catch {
      return false;
    }
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
    if (this.#depth > 0 || !this.#hooks) return this.#nested(fn);
    const hooks = this.#hooks;
    this.#flush();
    return this.#storage.transactionSync(() => {
      this.#depth++;
      this.#wrote = false;
      try {
        hooks.begin(options);
        const result = fn();
        if (isPromise(result))
          throw new ActorError("ASYNC_TRANSACTION", "transaction callbacks must not return a promise");
        hooks.commit(
          this.#wrote || (this.#cursors.length > 0 && this.#cursors.some((c) => c.rowsWritten > 0)),
        );
        return result;
      } catch (err) {
        hooks.rollback();
        throw err;
      } finally {
        this.#depth--;
        if (this.#cursors.length > 0) this.#cursors = [];
      }
    });
  }

  /**
   * Tell the hooks that the current transaction wrote rows through `ctx.storage.sql` directly
   * (the framework's own parts do: restore, undo, merge, tiering), so it is closed at commit.
   */
  markWritten(): void {
    if (this.#depth > 0) this.#wrote = true;
    else this.#hooks?.wrote();
  }

  /** Bytes used by this actor's database. */
  get size(): number {
    return this.#sql.databaseSize;
  }

  #nested<T>(fn: () => T): T {
    return this.#storage.transactionSync(() => {
      this.#depth++;
      try {
        const result = fn();
        if (isPromise(result))
          throw new ActorError("ASYNC_TRANSACTION", "transaction callbacks must not return a promise");
        return result;
      } finally {
        this.#depth--;
      }
    });
  }

  #exec(sql: string, params: SqlParams | undefined): SqlStorageCursor<Record<string, SqlStorageValue>> {
    if (this.#unchecked) this.#flush();
    if (!params || params.length === 0) return this.#sql.exec(sql);
    if (!Array.isArray(params)) throw new ActorError("VALIDATION_FAILED", "SQL params must be an array");
    // The common case: every value already bindable (string, number, null, ArrayBuffer), bound as
    // given without a copy. Anything else is converted, bigints bound exactly.
    for (let i = 0; i < params.length; i++) {
      const value = params[i];
      const type = typeof value;
      // NaN is not ready: bindable refuses it.
      if (
        type === "string" ||
        (type === "number" && !Number.isNaN(value)) ||
        value === null ||
        value instanceof ArrayBuffer
      )
        continue;
      if (params.some((p) => typeof p === "bigint")) {
        const exact = bindBigints(sql, params);
        return this.#sql.exec(exact.sql, ...exact.params.map(bindable));
      }
      return this.#sql.exec(sql, ...params.map(bindable));
    }
    return this.#sql.exec(sql, ...params);
  }

  /**
   * A statement through `query`/`run` has run: did it write rows (`rowsWritten`: index and
   * trigger rows included)? Inside a transaction that has already written, nothing is asked.
   */
  #noteWrite(cursor: SqlStorageCursor<Record<string, SqlStorageValue>>, sql: string): void {
    if (this.#depth > 0) {
      if (!this.#wrote && cursor.rowsWritten > 0 && this.#captures(sql)) this.#wrote = true;
    } else if (cursor.rowsWritten > 0 && this.#captures(sql)) this.#hooks!.wrote();
  }

  #captures(sql: string): boolean {
    const hooks = this.#hooks!;
    return hooks.captures === undefined || hooks.captures(sql);
  }

  /** drizzle reads its cursor after this returns: its writes are checked at commit, or just after. */
  #drizzleExec(sql: string, bindings: unknown[]): SqlStorageCursor<Record<string, SqlStorageValue>> {
    const cursor = this.#exec(sql, bindings);
    // A text that could not capture anything is never checked (drizzle runs reads here too).
    if (!this.#hooks || !this.#captures(sql)) return cursor;
    if (this.#depth > 0) this.#cursors.push(cursor);
    else {
      this.#unchecked = cursor;
      queueMicrotask(() => this.#flush());
    }
    return cursor;
  }

  #flush(): void {
    const cursor = this.#unchecked;
    this.#unchecked = undefined;
    if (cursor && cursor.rowsWritten > 0) this.#hooks?.wrote();
  }
}

function isPromise(value: unknown): boolean {
  return !!value && typeof (value as { then?: unknown }).then === "function";
}

/** Quote an identifier that came from the schema (sqlite_master, drizzle), never from a request. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
