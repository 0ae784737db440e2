import type { TransactionHooks, TransactionOptions } from "../database";
import { NEWEST_TX, WAL } from "./store";

/**
 * Which transaction a change belongs to. The capture triggers start a transaction at the first
 * tracked change and every later change joins it until it is closed (the newest WAL row's mark
 * cleared, see triggers.ts):
 * - `this.transaction` (and drizzle's `db.transaction`) closes it when it commits, recording the actor;
 * - a write outside it (`this.run`, drizzle, raw `ctx.storage.sql`) is closed lazily, just before the
 *   next write, so each such statement is its own transaction.
 * SQLite cannot see statement or transaction boundaries from a trigger, so this object watches
 * `ctx.storage.sql.exec` and `transactionSync` of this actor's own storage (it wraps those two
 * methods on that one object). A wrapped transaction costs one statement (the close); a write
 * outside one costs one statement before the next write; reads cost nothing.
 */
export const CLOSE = `UPDATE ${WAL} SET mark = NULL WHERE lsn = (SELECT max(lsn) FROM ${WAL}) AND mark = -1`;
/** The same, recording the actor on the transaction's first row. */
export const CLOSE_AS = `UPDATE ${WAL} SET mark = NULL, actor = CASE WHEN lsn = tx THEN ? ELSE actor END
 WHERE lsn IN ((SELECT max(lsn) FROM ${WAL}), ${NEWEST_TX}) AND (SELECT mark FROM ${WAL} WHERE lsn = (SELECT max(lsn) FROM ${WAL})) = -1`;
const READ = /^\s*(select|pragma|explain)\b/i;

export class Capture implements TransactionHooks {
  /** Called after something may have been written (a commit, a write outside a transaction). */
  onWrite: (() => void) | undefined;
  readonly #exec: SqlStorage["exec"];
  readonly #sql: SqlStorage;
  /** A write outside a transaction may have left a transaction row open. */
  #pending = false;
  #inTransaction = false;
  #actor: string | null = null;

  constructor(storage: DurableObjectStorage) {
    const sql = storage.sql;
    const exec = sql.exec;
    const transactionSync = storage.transactionSync;
    this.#sql = sql;
    this.#exec = exec;
    const watchedExec = (query: string, ...bindings: unknown[]) => {
      if (this.#inTransaction || READ.test(query)) return exec.call(sql, query, ...bindings);
      if (this.#pending) this.#close(null);
      this.#pending = true;
      const cursor = exec.call(sql, query, ...bindings);
      this.onWrite?.();
      return cursor;
    };
    Object.defineProperty(sql, "exec", { value: watchedExec, configurable: true, writable: true });
    Object.defineProperty(storage, "transactionSync", {
      value: <T>(fn: () => T): T => {
        try {
          return transactionSync.call(storage, fn) as T;
        } catch (err) {
          this.#pending = true; // a close made inside it was rolled back too
          throw err;
        }
      },
      configurable: true,
      writable: true,
    });
    if (storage.sql.exec !== watchedExec) throw new Error("history: cannot watch ctx.storage.sql.exec");
  }

  begin(options: TransactionOptions | undefined): void {
    if (this.#pending) this.#close(null);
    this.#inTransaction = true;
    this.#actor = options?.actor ?? null;
  }

  commit(): void {
    this.#inTransaction = false;
    this.#close(this.#actor);
    this.onWrite?.();
  }

  rollback(): void {
    this.#inTransaction = false;
    this.#pending = true;
  }

  #close(actor: string | null): void {
    if (actor === null) this.#exec.call(this.#sql, CLOSE);
    else this.#exec.call(this.#sql, CLOSE_AS, actor);
    this.#pending = false;
  }
}
