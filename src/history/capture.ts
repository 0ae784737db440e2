import type { TransactionOptions, WriteHooks } from "../database";
import { NEWEST_TX, WAL } from "./store";

/**
 * Which transaction a change belongs to. The capture triggers start a history transaction at the
 * first tracked change, and every later change joins it until it is closed (the newest WAL row's
 * mark cleared, see triggers.ts). SQLite cannot show statement or transaction boundaries to a
 * trigger, so this is a consumer of the actor's write path (`Database`'s hooks), which owns them:
 * - `this.transaction` (and drizzle's `db.transaction`) is one history transaction, closed at
 *   commit with its actor; one that wrote nothing costs nothing;
 * - a statement of `this.run`/`this.query`/drizzle outside one is its own, closed just after it.
 * Writes made straight on `ctx.storage` (bypassing the actor's API) are still captured, and join
 * the history transaction of the next write through the actor that may capture: a raw
 * `transactionSync` is never split. A close is one statement; reads cost nothing, and so do
 * writes whose text targets a quiet table alone (untracked, no triggers or foreign keys reaching
 * further, see quiet.ts): they cannot open a history transaction, so theirs needs no close.
 */
export const CLOSE = `UPDATE ${WAL} SET mark = NULL WHERE lsn = (SELECT max(lsn) FROM ${WAL}) AND mark = -1`;
/** The same, recording the actor on the transaction's first row. */
export const CLOSE_AS = `UPDATE ${WAL} SET mark = NULL, actor = CASE WHEN lsn = tx THEN ? ELSE actor END
 WHERE lsn IN ((SELECT max(lsn) FROM ${WAL}), ${NEWEST_TX}) AND (SELECT mark FROM ${WAL} WHERE lsn = (SELECT max(lsn) FROM ${WAL})) = -1`;

export class Capture implements WriteHooks {
  /** Called after something was written and closed (a commit, a write outside a transaction). */
  onWrite: (() => void) | undefined;
  readonly #sql: SqlStorage;
  #actor: string | null = null;
  /** See `WriteHooks.captures`: false only for a statement that writes untracked tables alone. */
  readonly captures: (sql: string) => boolean;

  constructor(sql: SqlStorage, captures: (sql: string) => boolean) {
    this.#sql = sql;
    this.captures = captures;
  }

  begin(options: TransactionOptions | undefined): void {
    this.#actor = options?.actor ?? null;
  }

  /** True when the transaction captured a change (the WAL holds at least that one now). */
  commit(wrote: boolean): boolean {
    return wrote && this.#closed(this.#actor);
  }

  rollback(): void {}

  /** True when the write captured a change. */
  wrote(): boolean {
    return this.#closed(null);
  }

  /**
   * Close, and tell listeners only when something was captured: a close that changed no row found
   * no open history transaction (only untracked tables were written), so nothing new is in the WAL.
   */
  #closed(actor: string | null): boolean {
    if (!this.close(actor)) return false;
    this.onWrite?.();
    return true;
  }

  /** Close the open history transaction (if any), recording `actor` on it; true if one was open. */
  close(actor: string | null): boolean {
    const cursor = actor === null ? this.#sql.exec(CLOSE) : this.#sql.exec(CLOSE_AS, actor);
    return cursor.rowsWritten > 0;
  }
}
