import type { SqlActor } from "../sql-actor";

/**
 * Types of `connect<typeof Actor>(url)`: a proxy with one method per method the actor offers to
 * sockets (`defineActor({ rpc: rpc({ methods }) })`), typed by the actor class. Only types come
 * from the server code; nothing of it is bundled into the client.
 */

type Instance<T> = T extends abstract new (...args: never) => infer I ? I : T;

/** Names the actor offers, when its config keeps them (a literal `rpc({ methods })`). */
type DeclaredNames<T> = T extends { config: { rpc?: { methods: infer M } } }
  ? string extends keyof M
    ? never
    : keyof M & string
  : never;

/** Every method of the actor's own class (not the framework's) when the names are not known to the type. */
type OwnMethodNames<I> = {
  [K in keyof I]: K extends keyof SqlActor<never, never>
    ? never
    : I[K] extends (...args: never) => unknown
      ? K
      : never;
}[keyof I] &
  string;

export type OfferedNames<T> = [DeclaredNames<T>] extends [never]
  ? OwnMethodNames<Instance<T>>
  : DeclaredNames<T>;

/** A streaming result: iterate the chunks (`for await`), or await them all; `cancel()` stops the server. */
export interface RemoteStream<C> extends PromiseLike<C[]>, AsyncIterable<C> {
  cancel(): void;
}

/** What a remote call answers. */
export type Answer<R> = R extends AsyncIterable<infer C> ? RemoteStream<C> : Promise<Awaited<R>>;

export type RemoteMethod<F> = F extends (...args: infer A) => infer R ? (...args: A) => Answer<R> : never;

export type ConnectionStatus = "connecting" | "open" | "closed";

/** A live query's rows, kept up to date from the actor's commits. */
export interface LiveQuery<Row = Record<string, unknown>> {
  /** The current rows (in no particular order; sort them as you show them). */
  readonly rows: Row[];
  /** The LSN of the last commit these rows include. */
  readonly lsn: number;
  /** Resolves with the first rows; rejects with the server's error if it refuses the query. */
  readonly ready: Promise<Row[]>;
  /** Called after the rows change (the first answer, each push, each resume). */
  onChange(listener: (rows: Row[]) => void): () => void;
  /** Called when the server refuses or ends the query. */
  onError(listener: (error: RpcError) => void): () => void;
  close(): void;
}

/** The controls next to the actor's methods (`$`-prefixed so they never clash with a method). */
export interface ClientControls {
  /** Start a live query: `SELECT … FROM <table under history> WHERE …` with `?` parameters. */
  $live<Row = Record<string, unknown>>(sql: string, params?: unknown[]): LiveQuery<Row>;
  readonly $status: ConnectionStatus;
  /** Listen to "open" and "close" of the underlying socket (each reconnect opens again). */
  $on(event: "open" | "close", listener: () => void): () => void;
  /**
   * Listen to the actor's own frames: every decoded frame with a `type` (broadcasts, presence,
   * `{ type: "error" }` frames), whatever else it carries. Such a frame never answers a call or
   * feeds a live query, even with an `id` or `sub` of its own.
   */
  $on(event: "message", listener: (frame: Record<string, unknown>) => void): () => void;
  /** Close for good: pending and queued calls fail with CLOSED. */
  $close(): void;
}

export type ActorClient<T> = {
  [K in OfferedNames<T>]: RemoteMethod<Instance<T>[K & keyof Instance<T>]>;
} & ClientControls & {
    /**
     * The same client (one connection, one queue) whose calls use these options:
     * `await sku.$with({ timeoutMs: 2_000 }).reserve(input)`.
     */
    $with(options: CallOptions): ActorClient<T>;
  };

/** Options of the calls made through `client.$with(options)`. */
export interface CallOptions {
  /**
   * Fail a call with TIMEOUT (an RpcError, `details.timeoutMs`) when its answer has not come within
   * this many ms, counted from the call (time waiting in the offline queue included); for a stream,
   * the longest wait for each next chunk. The call leaves the queue and the calls waiting (a stream
   * is cancelled on the server); a late answer is ignored. A method may still have run: retry only
   * what is idempotent. 0 or Infinity: no timeout. Default: the client's `timeoutMs`.
   */
  timeoutMs?: number;
}

export interface ConnectOptions {
  /** A WebSocket constructor (default: the global one; browsers and Node 22 have it). */
  WebSocket?: new (
    url: string,
  ) => WebSocket;
  /** Calls kept while offline, sent on reconnect (default 100); beyond, a call fails with QUEUE_FULL. */
  maxQueue?: number;
  /**
   * Every call's timeout in ms (default 60,000; 0 or Infinity: none): see `CallOptions.timeoutMs`,
   * and `client.$with({ timeoutMs })` for other calls. Live queries have none (they resubscribe).
   */
  timeoutMs?: number;
  /** Reconnect delay: starts at `minDelayMs` (250), doubles to `maxDelayMs` (10,000), with ±20% jitter. */
  minDelayMs?: number;
  maxDelayMs?: number;
}

/** An error answered by the actor (`{ code, message }`) or by the client (CONNECTION_LOST, QUEUE_FULL, CLOSED, CANCELLED, TIMEOUT). */
export class RpcError extends Error {
  override name = "RpcError";
  constructor(
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(`${code}: ${message}`);
  }
}
