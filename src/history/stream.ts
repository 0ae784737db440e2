import type { Change, ChangesOptions, ChangesPage } from "./feed";

/**
 * Tells whoever waits that something may have been written (history calls `notify` after each
 * commit and each write outside a transaction). Listeners run synchronously, inside the commit:
 * they must only note the fact and defer any work.
 */
export class WriteSignal {
  readonly #listeners = new Set<() => void>();

  /** Call `listener` after every write; returns the function that stops it. */
  listen(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  notify(): void {
    for (const listener of this.#listeners) listener();
  }

  /** Resolves at the next write, or when `signal` aborts. */
  next(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        stop();
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const stop = this.listen(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}

export interface StreamOptions {
  tables?: readonly string[];
  /** Ends the iteration (as does `break` in `for await`). */
  signal?: AbortSignal;
}

/**
 * `for await (const change of this.history.subscribe(fromLsn))`: every change from `fromLsn` in
 * LSN order, then each new one as it commits; it never ends by itself. Nothing is acknowledged:
 * keep the last LSN you processed (or use a durable subscriber / a forward) to resume after a restart.
 */
export async function* changeStream(
  read: (options: ChangesOptions) => ChangesPage,
  writes: WriteSignal,
  fromLsn: number,
  options: StreamOptions = {},
): AsyncGenerator<Change, void, undefined> {
  // The first read checks fromLsn and tables (typed errors) before anything is yielded.
  let page = read({ fromLsn, tables: options.tables, limit: 500 });
  while (!options.signal?.aborted) {
    for (const change of page.changes) {
      yield change;
      if (options.signal?.aborted) return;
    }
    // Caught up: wait for the next write (registered in the same tick as the read, so none is missed).
    if (page.changes.length === 0) await writes.next(options.signal);
    if (options.signal?.aborted) return;
    page = read({ fromLsn: page.nextLsn, tables: options.tables, limit: 500 });
  }
}
