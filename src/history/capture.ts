import type { TransactionOptions, WriteHooks } from "../database";
import { TextCache } from "../query-route";
import { NEWEST_TX, WAL } from "./store";

/**
 * Which transaction a change belongs to. The capture triggers start a history transaction at the
 * first tracked change, and every later change joins it until it is closed (the newest WAL row's
 * mark cleared, see triggers.ts). SQLite cannot show statement or transaction boundaries to a
 * trigger, so this is a consumer of the actor's write path (`Database`'s hooks), which owns them:
 * - `this.transaction` (and drizzle's `db.transaction`) is one history transaction; one that wrote
 *   nothing costs nothing. Its close is owed, not run at commit: the next statement of the actor
 *   that may capture runs it first, in its own `exec` call (`CLOSE; statement`, one call where two
 *   would cost the runtime's fixed price per call twice), before that statement can capture
 *   anything. What is still owed when the synchronous work ends is closed in a microtask, and a
 *   part's transaction (raw writes: restore, undo, merge, tiering) or a nested one closes it first.
 *   A transaction with an actor is closed at commit (the actor is a parameter, and only the last
 *   statement of an `exec` may have parameters).
 * - a statement of `this.run`/`this.query`/drizzle outside one is its own, closed just after it.
 * Writes made straight on `ctx.storage` (bypassing the actor's API) are still captured, and join
 * the history transaction of the next write through the actor that may capture, or, made in the
 * same synchronous work just after a `this.transaction` whose close is still owed, that one: a raw
 * `transactionSync` is never split. Reads cost nothing, and so do writes whose text targets a quiet
 * table alone (untracked, no triggers or foreign keys reaching further, see quiet.ts): they cannot
 * open a history transaction, so theirs needs no close and they carry none.
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
  /** See `WriteHooks.captures`: false only for a read, or a statement that writes untracked tables alone. */
  readonly captures: (sql: string) => boolean;
  /** The last transaction committed is not closed yet (see `WriteHooks.owed`). */
  owed = false;
  /** What was owed when the current transaction began (a rollback undoes a close run inside it). */
  #owedAtBegin = false;
  #queued = false;
  /** A statement's text with the close first, per text. */
  readonly #withClose = new TextCache<string>((sql) => `${CLOSE};\n${sql}`);

  constructor(sql: SqlStorage, captures: (sql: string) => boolean) {
    this.#sql = sql;
    this.captures = captures;
  }

  begin(options: TransactionOptions | undefined, raw: boolean): void {
    this.#actor = options?.actor ?? null;
    this.#owedAtBegin = this.owed;
    if (raw) this.settle();
  }

  /**
   * True when the transaction captured a change, "maybe" when its close is owed (it wrote a table
   * that may capture: an update that changed nothing captures nothing), false when it captured none.
   */
  commit(wrote: boolean): boolean | "maybe" {
    if (!wrote) return false;
    if (this.#actor !== null) return this.#closed(this.#actor);
    this.#owe();
    this.onWrite?.();
    return "maybe";
  }

  rollback(): void {
    if (this.#owedAtBegin) this.#owe();
  }

  /** True when the write captured a change. */
  wrote(): boolean {
    return this.#closed(null);
  }

  withOwed(sql: string): string {
    return this.#withClose.get(sql);
  }

  paid(): void {
    this.owed = false;
  }

  /** Run the owed close now (if any). */
  settle(): void {
    if (!this.owed) return;
    this.#sql.exec(CLOSE);
    this.owed = false;
  }

  #owe(): void {
    this.owed = true;
    if (this.#queued) return;
    this.#queued = true;
    // After the synchronous work (no transaction can be open then: their callbacks are synchronous).
    queueMicrotask(() => {
      this.#queued = false;
      try {
        this.settle();
      } catch (err) {
        // The storage may be gone (deleteAll); a wake closes whatever is left open.
        this.owed = false;
        console.error("history: could not close the last transaction", err);
      }
    });
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
