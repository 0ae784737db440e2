import { RpcTarget } from "cloudflare:workers";
import { ActorError } from "../errors";
import type { HistoryEngine } from "./engine";
import type { Change, ChangesOptions, ChangesPage, RowVersion } from "./feed";
import type { PruneResult } from "./retention";
import { changeStream, type StreamOptions } from "./stream";
import type { Subscription } from "./subscribers";
import type { HistoryStatus } from "./types";

/**
 * `this.history` of an actor, also reachable over RPC as `stub.history.changes(…)`: the change feed,
 * row history, durable subscribers and retention. (restoreTo, undo, branch and merge are methods of
 * the actor itself.) Without a `history` key in `defineActor`, every method answers HISTORY_DISABLED.
 */
export class History extends RpcTarget {
  readonly #engine: HistoryEngine | undefined;
  readonly #ready: () => void;

  constructor(engine: HistoryEngine | undefined, ready: () => void) {
    super();
    this.#engine = engine;
    this.#ready = ready;
  }

  #use(): HistoryEngine {
    this.#ready();
    if (!this.#engine)
      throw new ActorError(
        "HISTORY_DISABLED",
        "history is not enabled for this actor (defineActor({ history }))",
      );
    return this.#engine;
  }

  get enabled(): boolean {
    return this.#engine !== undefined;
  }

  /** Tracked tables, LSN range, subscribers, branches. */
  status(): HistoryStatus {
    return this.#use().status();
  }

  /** Ordered changes from `fromLsn` and the LSN to resume from: no gaps, no duplicates. */
  changes(options?: ChangesOptions): ChangesPage {
    return this.#use().changes(options);
  }

  /** Every version of one row (`key`: the value, `{ col: value }`, or an array for composite keys). */
  rowHistory(table: string, key: unknown): RowVersion[] {
    return this.#use().rowHistory(table, key);
  }

  /**
   * `subscribe(fromLsn)`: an async iterator of every change from `fromLsn`, then each new one as
   * it commits (for code inside the actor: `for await (const change of this.history.subscribe(lsn))`).
   * `subscribe(id)`: register a durable subscriber (idempotent); it starts after the newest change
   * unless `fromLsn` says otherwise.
   */
  subscribe(fromLsn: number, options?: StreamOptions): AsyncGenerator<Change, void, undefined>;
  subscribe(id: string, options?: { fromLsn?: number }): Subscription;
  subscribe(
    idOrLsn: string | number,
    options?: StreamOptions & { fromLsn?: number },
  ): Subscription | AsyncGenerator<Change, void, undefined> {
    const engine = this.#use();
    if (typeof idOrLsn === "number")
      return changeStream((o) => engine.changes(o), engine.writes, idOrLsn, options);
    return engine.subscribe(idOrLsn, options);
  }

  /** Acknowledge every change up to `lsn`; retention keeps what is not acknowledged. */
  ack(id: string, lsn: number): Subscription {
    return this.#use().ack(id, lsn);
  }

  unsubscribe(id: string): boolean {
    return this.#use().unsubscribe(id);
  }

  subscribers(): Subscription[] {
    return this.#use().subscribers();
  }

  /** Apply retention now (a schedule calls this); `now` lets a caller prune as of another time. */
  prune(options?: { now?: number; maxPerCall?: number }): PruneResult {
    return this.#use().prune(options);
  }
}
