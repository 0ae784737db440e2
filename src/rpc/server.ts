import { errorFrame } from "../broadcast/protocol";
import type { ActorConnection, ConnectionState } from "../broadcast/state";
import { ActorError } from "../errors";
import { toJsonText } from "../json";
import { type Caller, runAsCaller, vouchedCaller } from "./caller";
import type { RpcSettings } from "./config";
import { type LiveHost, LiveQueries, type RpcState } from "./live";
import { checkGrantedColumns } from "./live-sql";
import {
  type CallId,
  errorBody,
  idOf,
  isRpcFrame,
  parseRpcFrame,
  type RpcFrame,
  replyFrame,
} from "./protocol";

/** What the rpc part needs from its actor (src/sql-actor.ts wires it; this part never imports it). */
export interface RpcHost extends Omit<LiveHost, "rpcState" | "setRpcState"> {
  /** The actor instance whose offered methods are called. */
  actor: object;
  /** True for names of the framework (SqlActor and above): never callable from a socket. */
  isFrameworkMethod(name: string): boolean;
  state(connection: ActorConnection): ConnectionState;
  setState(connection: ActorConnection, state: ConnectionState): void;
  /** `history.live`'s grant of `table`: false (not granted), undefined (every column) or the columns. */
  liveGrant(table: string): ReadonlySet<string> | undefined | false;
  /** May this connection read `table`'s changes? (`canSubscribe(connection, "changes:<table>")`.) */
  canListen(connection: ActorConnection, table: string): boolean | Promise<boolean>;
}

interface Flight {
  cancel?: () => void;
}

/**
 * The server side of socket RPC for one actor instance: routes `{ id, method, args }` frames to
 * the offered methods (checked against the caller's role), correlates answers by id, streams
 * async-iterable results, and serves live queries.
 */
export class RpcServer {
  readonly #settings: RpcSettings;
  readonly #host: RpcHost;
  readonly #live: LiveQueries;
  /**
   * Calls in flight per socket (in memory: a hibernated actor has none). Keyed by the socket
   * itself, not its id: the id is the client's `_pk` (presence shows it to everyone), so another
   * socket may carry the same id and must not reach these calls.
   */
  readonly #flights = new WeakMap<ActorConnection, Map<CallId, Flight>>();

  constructor(settings: RpcSettings, host: RpcHost) {
    this.#settings = settings;
    this.#host = host;
    this.#live = new LiveQueries(
      {
        ...host,
        rpcState: (c) => (host.state(c).rpc as RpcState | undefined) ?? { role: null },
        setRpcState: (c, rpc) => host.setState(c, { ...host.state(c), rpc: rpc as never }),
      },
      settings.maxLiveQueries,
    );
  }

  /**
   * The first state of a socket: the caller the Worker in front vouched for on the upgrade request.
   * A vouched caller's user is the vouched one (none when it vouched none), never a `?userId=` the
   * client wrote; `identify()`'s name stands only for that same user. Unvouched, `identify()` decides.
   */
  accept(request: Request, state: ConnectionState): ConnectionState {
    const vouched = vouchedCaller(request);
    const rpc: RpcState = { role: vouched?.role ?? null };
    if (!vouched) return { ...state, rpc: rpc as never };
    const userId = vouched.userId ?? null;
    const name = vouched.name ?? (userId !== null && state.userId === userId ? state.name : null);
    return { ...state, userId, name, rpc: rpc as never };
  }

  caller(connection: ActorConnection): Caller {
    const state = this.#host.state(connection);
    const rpc = state.rpc as RpcState | undefined;
    return { connectionId: connection.id, role: rpc?.role ?? null, userId: state.userId, name: state.name };
  }

  /** A decoded client frame: true when it was an RPC frame (answered here, never thrown). */
  frame(connection: ActorConnection, frame: unknown): boolean | Promise<boolean> {
    if (!isRpcFrame(frame)) return false;
    return this.#handle(connection, frame).then(() => true);
  }

  async #handle(connection: ActorConnection, raw: Record<string, unknown>): Promise<void> {
    let frame: RpcFrame | undefined;
    try {
      frame = parseRpcFrame(raw);
      switch (frame.kind) {
        case "call":
          return await this.#call(connection, frame);
        case "cancel":
          this.#flightsOf(connection).get(frame.id)?.cancel?.();
          return;
        case "subscribe":
          return await this.#subscribe(connection, frame);
        case "unsubscribe":
          this.#reply(
            connection,
            frame.id,
            "result",
            JSON.stringify({ unsubscribed: this.#live.unsubscribe(connection, frame.sub) }),
          );
          return;
      }
    } catch (err) {
      const id = frame?.id ?? idOf(raw);
      const known = ActorError.from(err);
      if (!known) console.error("a socket call failed", err);
      const error = known ?? new ActorError("INTERNAL", "internal error");
      // Without an id to answer, the socket's error frame (DESIGN.md: { type: "error", data: { code, message } }).
      if (id === undefined) this.#host.send(connection, errorFrame(error));
      else this.#reply(connection, id, "error", errorBody(error));
    }
  }

  async #call(connection: ActorConnection, frame: Extract<RpcFrame, { kind: "call" }>): Promise<void> {
    const { id, method, args } = frame;
    const role = this.#settings.methods.get(method);
    const fn = (this.#host.actor as Record<string, unknown>)[method];
    if (role === undefined || this.#host.isFrameworkMethod(method) || typeof fn !== "function")
      throw new ActorError("METHOD_NOT_ALLOWED", `${method} is not offered to sockets`);
    const who = this.caller(connection);
    if (!this.#settings.authorize(role, who))
      throw new ActorError("FORBIDDEN", `${method} needs the ${role} role`);
    const flights = this.#flightsOf(connection);
    if (flights.has(id))
      throw new ActorError("DUPLICATE_ID", `call ${JSON.stringify(id)} is still in flight`);
    if (flights.size >= this.#settings.maxInFlight)
      throw new ActorError(
        "TOO_MANY_CALLS",
        `at most ${this.#settings.maxInFlight} calls in flight per socket`,
      );
    const flight: Flight = {};
    flights.set(id, flight);
    try {
      const result = await runAsCaller(who, () =>
        (fn as (...a: unknown[]) => unknown).apply(this.#host.actor, args),
      );
      if (isAsyncIterable(result)) await this.#stream(connection, id, who, result, flight);
      else this.#reply(connection, id, "result", this.#json(result, "result"));
    } finally {
      flights.delete(id);
    }
  }

  /** `{ id, chunk }` per item, then `{ id, done: true }`; a cancel stops the iterator. */
  async #stream(
    connection: ActorConnection,
    id: CallId,
    who: Caller,
    result: AsyncIterable<unknown>,
    flight: Flight,
  ): Promise<void> {
    const iterator = result[Symbol.asyncIterator]();
    let cancelled = false;
    flight.cancel = () => {
      if (cancelled) return;
      cancelled = true;
      this.#host.send(connection, `{"id":${JSON.stringify(id)},"done":true,"cancelled":true}`);
      void Promise.resolve(iterator.return?.()).catch(() => {});
    };
    try {
      for (;;) {
        const step = await runAsCaller(who, () => iterator.next());
        if (cancelled) return;
        if (step.done) break;
        if (!this.#reply(connection, id, "chunk", this.#json(step.value, "chunk"))) {
          flight.cancel(); // the socket is gone
          return;
        }
      }
    } catch (err) {
      if (cancelled) return;
      await iterator.return?.();
      throw err;
    }
    this.#host.send(connection, `{"id":${JSON.stringify(id)},"done":true}`);
  }

  async #subscribe(
    connection: ActorConnection,
    frame: Extract<RpcFrame, { kind: "subscribe" }>,
  ): Promise<void> {
    const live = this.#settings.live;
    if (!live) throw new ActorError("METHOD_NOT_ALLOWED", "this actor offers no live queries");
    if (!this.#settings.authorize(live.role, this.caller(connection)))
      throw new ActorError("FORBIDDEN", `live queries need the ${live.role} role`);
    const { query, params } = this.#live.analyze(frame.sql, frame.params);
    const table = query.table.name;
    // The live feed's grant (history.live, with its columns), then rpc's own list, then the actor's say.
    const grant = this.#host.liveGrant(table);
    if (grant === false) throw new ActorError("FORBIDDEN", `history.live does not grant ${table}`);
    if (grant) checkGrantedColumns(frame.sql as string, query.table, grant);
    if (
      (live.tables !== "all" && !live.tables.has(table)) ||
      !(await this.#host.canListen(connection, table))
    )
      throw new ActorError("FORBIDDEN", `live queries on ${table} are not offered to this socket`);
    // After the await: the snapshot and its LSN are read in one synchronous step.
    const snapshot = this.#live.subscribe(connection, frame.id, query, params, frame.fromLsn);
    this.#reply(connection, frame.id, "result", this.#json(snapshot, "result"));
  }

  /** History committed changes [from, last]. Never throws (a failed push must not fail the write). */
  committed(from: number, last: number): void {
    try {
      this.#live.committed(from, last);
    } catch (err) {
      console.error("live query push failed", err);
    }
  }

  closed(connection: ActorConnection): void {
    for (const flight of this.#flights.get(connection)?.values() ?? []) flight.cancel?.();
    this.#flights.delete(connection);
    this.#live.closed(connection);
  }

  #flightsOf(connection: ActorConnection): Map<CallId, Flight> {
    let flights = this.#flights.get(connection);
    if (!flights) {
      flights = new Map();
      this.#flights.set(connection, flights);
    }
    return flights;
  }

  #json(value: unknown, what: string): string {
    try {
      return toJsonText(value, this.#settings.maxResultBytes, what) ?? "null";
    } catch (err) {
      const known = ActorError.from(err);
      if (known?.code === "PAYLOAD_TOO_LARGE")
        throw new ActorError("RESULT_TOO_LARGE", `${known.description}; stream long results`);
      throw new ActorError("RESULT_NOT_JSON", known?.description ?? `the ${what} is not JSON`);
    }
  }

  #reply(connection: ActorConnection, id: CallId, key: "result" | "chunk" | "error", json: string): boolean {
    return this.#host.send(connection, replyFrame(id, key, json));
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    value !== null &&
    typeof value === "object" &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function"
  );
}
