import { ReconnectingSocket } from "./socket";
import {
  type ActorClient,
  type CallOptions,
  type ConnectionStatus,
  type ConnectOptions,
  type LiveQuery,
  type RemoteStream,
  RpcError,
} from "./types";

export type {
  ActorClient,
  Answer,
  CallOptions,
  ClientControls,
  ConnectionStatus,
  ConnectOptions,
  LiveQuery,
  OfferedNames,
  RemoteMethod,
  RemoteStream,
} from "./types";
export { RpcError };

type Frame = Record<string, unknown>;

/** An error frame's code and message: under `data` (DESIGN.md §4), or flat as the socket also sends them. */
const errorData = (frame: Frame) => (frame.data ?? {}) as { code?: unknown; message?: unknown };
const codeOf = (frame: Frame) => String(errorData(frame).code ?? frame.code ?? "");
const messageOf = (frame: Frame) => String(errorData(frame).message ?? frame.message ?? "");

const bytes = (text: string) => new TextEncoder().encode(text).length;
type Row = Record<string, unknown>;

interface Call {
  frame: string;
  sent: boolean;
  /** The per-call timeout's timer, while one runs. */
  timer?: ReturnType<typeof setTimeout>;
  resolve(value: unknown): void;
  reject(error: RpcError): void;
  chunk?(value: unknown): void;
  done?(): void;
  /** Start the timeout again (a stream's next chunk came). */
  restart?(): void;
}

/**
 * A typed client of an actor's socket: `const sku = connect<typeof InventorySKU>(url)`, then
 * `await sku.status()`. Reconnects with backoff; calls made while offline wait in a bounded queue
 * and are sent on reconnect; a call already sent when the connection drops fails with
 * CONNECTION_LOST (it may or may not have run: retry only what is idempotent); live queries resume
 * from their last LSN. Works wherever a global `WebSocket` exists (browsers, Node 22, Workers).
 */
export function connect<T>(url: string | URL, options: ConnectOptions = {}): ActorClient<T> {
  const Ctor = options.WebSocket ?? globalThis.WebSocket;
  if (!Ctor) throw new Error("connect(): no WebSocket here; pass options.WebSocket");
  const maxQueue = options.maxQueue ?? 100;
  const defaultTimeout = checkTimeout(options.timeoutMs ?? 60_000, "timeoutMs");
  /** The calls waiting for an answer (sent or queued). Removed only through take(). */
  const calls = new Map<string, Call>();
  /** Forget call `id` (its timer too): it was answered, failed or given up. */
  function take(id: string): Call | undefined {
    const call = calls.get(id);
    if (!call) return undefined;
    calls.delete(id);
    if (call.timer !== undefined) clearTimeout(call.timer);
    return call;
  }
  const queue: string[] = [];
  const lives = new Map<string, Live>();
  const listeners = {
    open: new Set<() => void>(),
    close: new Set<() => void>(),
    message: new Set<(frame: Frame) => void>(),
  };
  let seq = 0;
  let status: ConnectionStatus = "connecting";

  const wsUrl = new URL(String(url), (globalThis as { location?: { href: string } }).location?.href);
  if (wsUrl.protocol === "http:" || wsUrl.protocol === "https:")
    wsUrl.protocol = wsUrl.protocol.replace("http", "ws");

  const socket = new ReconnectingSocket(
    wsUrl.href,
    {
      open() {
        status = "open";
        for (const id of queue.splice(0)) {
          const call = calls.get(id);
          // Live queries subscribe below, from the LSN they hold by then.
          if (call && !lives.has(id)) call.sent = socket.send(call.frame);
        }
        for (const live of lives.values()) live.subscribe();
        for (const fn of listeners.open) fn();
      },
      message(text) {
        let frame: Frame;
        try {
          frame = JSON.parse(text);
        } catch {
          return;
        }
        if (frame === null || typeof frame !== "object" || Array.isArray(frame)) return;
        // A frame with a `type` is the actor's own (DESIGN.md §4, src/rpc/protocol.ts): never an
        // answer or a push, whatever `id` or `sub` it carries. The one such frame about a call is
        // the socket's error for a frame it refused before RPC read it (too large, or an actor
        // without RPC): it names the call by `replyTo`, and fails that call.
        if ("type" in frame) {
          if (frame.type === "error" && refused(frame)) return;
          for (const fn of listeners.message) {
            try {
              fn(frame);
            } catch (err) {
              console.error("a message listener threw", err);
            }
          }
        } else if (frame.sub !== undefined) lives.get(String(frame.sub))?.push(frame);
        else if (typeof frame.id === "string") answer(frame);
      },
      close() {
        status = socket.closed ? "closed" : "connecting";
        // A call that was sent may or may not have run: the caller decides whether to retry.
        for (const [id, call] of calls)
          if (call.sent) {
            take(id);
            call.reject(new RpcError("CONNECTION_LOST", "the connection closed before the answer"));
          }
        for (const fn of listeners.close) fn();
      },
    },
    Ctor,
    options.minDelayMs ?? 250,
    options.maxDelayMs ?? 10_000,
  );

  /** An error frame about one of our calls: fail it. True when it was one. */
  function refused(frame: Frame): boolean {
    const error = { code: codeOf(frame), message: messageOf(frame) };
    if (typeof frame.replyTo === "string" && calls.get(frame.replyTo)?.sent) {
      answer({ id: frame.replyTo, error });
      return true;
    }
    return codeOf(frame) === "MESSAGE_TOO_LARGE" && frame.replyTo === undefined && tooLarge(frame);
  }

  /**
   * The socket refused a frame too large to read, and its error names no call (an actor before
   * ids were echoed, or a frame whose id it could not read cheaply). It is one of the
   * calls sent and not answered, and the largest of them is too large too (any frame larger than a
   * refused one is refused): fail that one. Each refused frame gets its own error.
   */
  function tooLarge(frame: Frame): boolean {
    let largest: [string, Call] | undefined;
    for (const entry of calls)
      if (entry[1].sent && (!largest || bytes(entry[1].frame) > bytes(largest[1].frame))) largest = entry;
    if (!largest) return false;
    answer({ id: largest[0], error: { code: codeOf(frame), message: messageOf(frame) } });
    return true;
  }

  function answer(frame: Frame): void {
    const id = frame.id as string;
    const call = calls.get(id);
    if (!call) return;
    if ("chunk" in frame) {
      call.chunk?.(frame.chunk);
      call.restart?.(); // a stream's timeout is the longest wait for its next frame
      return;
    }
    take(id);
    if (frame.error) {
      const e = frame.error as { code: string; message: string; details?: Record<string, unknown> };
      call.reject(new RpcError(e.code, e.message, e.details));
    } else if (frame.done) call.done?.();
    else call.resolve(frame.result);
  }

  /**
   * Send a frame as call `id` now, or queue it while offline. With `timeoutMs` (> 0), the call
   * fails with TIMEOUT when no answer came in that time, counted from now (waiting in the queue
   * included): it leaves the queue or the calls waiting, and a stream is cancelled on the server.
   */
  function request(
    id: string,
    frame: Frame,
    call: Omit<Call, "frame" | "sent" | "timer">,
    timeoutMs = 0,
  ): void {
    if (socket.closed) {
      call.reject(new RpcError("CLOSED", "the client was closed"));
      return;
    }
    const entry: Call = { ...call, frame: JSON.stringify({ id, ...frame }), sent: false };
    if (socket.send(entry.frame)) entry.sent = true;
    else if (queue.length >= maxQueue) {
      call.reject(new RpcError("QUEUE_FULL", `${maxQueue} calls are already waiting for the connection`));
      return;
    } else queue.push(id);
    calls.set(id, entry);
    if (timeoutMs > 0) {
      const start = () => {
        if (entry.timer !== undefined) clearTimeout(entry.timer);
        entry.timer = setTimeout(() => timedOut(id, entry, timeoutMs), timeoutMs);
      };
      entry.restart = start;
      start();
    }
  }

  function timedOut(id: string, entry: Call, timeoutMs: number): void {
    if (calls.get(id) !== entry) return;
    take(id);
    const index = queue.indexOf(id);
    if (index >= 0) queue.splice(index, 1);
    // Sent: a stream still running on the server is stopped (a plain call's late answer is ignored).
    else if (entry.sent) socket.send(JSON.stringify({ cancel: id }));
    entry.reject(new RpcError("TIMEOUT", `no answer within ${timeoutMs} ms`, { timeoutMs }));
  }

  function invoke(method: string, args: unknown[], timeoutMs: number): RemoteStream<unknown> {
    const id = `c${++seq}`;
    const chunks: unknown[] = [];
    let wake: (() => void) | undefined;
    let finished = false;
    let failure: RpcError | undefined;
    const settle = () => {
      wake?.();
      wake = undefined;
    };
    const promise = new Promise<unknown>((resolve, reject) => {
      request(
        id,
        { method, args },
        {
          resolve: (v) => {
            finished = true;
            resolve(v);
            settle();
          },
          reject: (e) => {
            finished = true;
            failure = e;
            reject(e);
            settle();
          },
          chunk: (c) => {
            chunks.push(c);
            settle();
          },
          done: () => {
            finished = true;
            resolve(chunks.slice());
            settle();
          },
        },
        timeoutMs,
      );
    });
    promise.catch(() => {}); // a stream read with for-await reports its error there
    const cancel = () => {
      if (finished) return;
      const index = queue.indexOf(id);
      if (index >= 0) {
        // Never sent: it never ran, and no answer will come to settle it.
        queue.splice(index, 1);
        take(id)?.reject(new RpcError("CANCELLED", "cancelled before it was sent"));
        return;
      }
      finished = true;
      if (!socket.send(JSON.stringify({ cancel: id }))) take(id);
      settle();
    };
    return Object.assign(promise, {
      cancel,
      async *[Symbol.asyncIterator]() {
        let read = 0;
        try {
          for (;;) {
            if (read < chunks.length) yield chunks[read++];
            else if (failure) throw failure;
            else if (finished) return;
            else await new Promise<void>((r) => (wake = r));
          }
        } finally {
          cancel();
        }
      },
    }) as unknown as RemoteStream<unknown>;
  }

  class Live implements LiveQuery<Row> {
    readonly id = `l${++seq}`;
    #rows = new Map<string, Row>();
    #key: string[] = [];
    #lsn = -1;
    #changed = new Set<(rows: Row[]) => void>();
    #errors = new Set<(error: RpcError) => void>();
    #ready!: (rows: Row[]) => void;
    #refused!: (error: RpcError) => void;
    readonly ready = new Promise<Row[]>((resolve, reject) => {
      this.#ready = resolve;
      this.#refused = reject;
    });

    constructor(
      readonly sql: string,
      readonly params: unknown[],
    ) {
      this.ready.catch(() => {}); // a caller who never awaits `ready` hears refusals via onError
    }

    get rows(): Row[] {
      return [...this.#rows.values()];
    }
    get lsn(): number {
      return this.#lsn;
    }
    onChange(listener: (rows: Row[]) => void) {
      this.#changed.add(listener);
      return () => this.#changed.delete(listener);
    }
    onError(listener: (error: RpcError) => void) {
      this.#errors.add(listener);
      return () => this.#errors.delete(listener);
    }
    close(): void {
      lives.delete(this.id);
      // Its subscribe, queued or in flight, is not answered to it any more (nor sent on connect).
      take(this.id);
      const index = queue.indexOf(this.id);
      if (index >= 0) queue.splice(index, 1);
      socket.send(JSON.stringify({ id: `u${++seq}`, unsubscribe: this.id }));
    }

    /** (Re)subscribe: from the last LSN held, so the answer is exactly what was missed. */
    subscribe(): void {
      take(this.id);
      // Offline: not queued (it would take a call's place, or fail QUEUE_FULL); open subscribes every live query.
      if (!socket.open && !socket.closed) return;
      const fromLsn = this.#lsn >= 0 ? this.#lsn : undefined;
      request(
        this.id,
        { subscribe: { sql: this.sql, params: this.params, fromLsn } },
        {
          resolve: (snapshot) => this.#apply(snapshot as Frame, !(snapshot as Frame).resumed),
          reject: (error) => {
            if (error.code === "CONNECTION_LOST") return; // resubscribed on reconnect
            this.#refused(error); // before the first rows: `ready` rejects (no-op once settled)
            for (const fn of this.#errors) fn(error);
          },
        },
      );
    }

    push(frame: Frame): void {
      if (frame.error) {
        this.#lsn = -1; // start over (for example after history was pruned)
        this.subscribe();
        return;
      }
      // A push continues exactly from the LSN held; anything else is a gap: ask for what was missed.
      if (frame.since !== this.#lsn) {
        this.subscribe();
        return;
      }
      this.#apply(frame, false);
    }

    #apply(frame: Frame, replace: boolean): void {
      if (frame.key) this.#key = frame.key as string[];
      if (replace) this.#rows.clear();
      const keyOf = (values: unknown[]) => JSON.stringify(values);
      for (const row of frame.rows as Row[]) this.#rows.set(keyOf(this.#key.map((k) => row[k])), row);
      for (const key of frame.removed as unknown[][]) this.#rows.delete(keyOf(key));
      this.#lsn = frame.lsn as number;
      const rows = this.rows;
      this.#ready(rows);
      const changed = replace || (frame.rows as Row[]).length > 0 || (frame.removed as unknown[]).length > 0;
      if (changed) for (const fn of this.#changed) fn(rows);
    }
  }

  const controls = {
    $live(sql: string, params: unknown[] = []) {
      const live = new Live(sql, params);
      lives.set(live.id, live);
      live.subscribe();
      return live;
    },
    get $status() {
      return status;
    },
    $on(event: "open" | "close" | "message", listener: (frame: Frame) => void) {
      const set = listeners[event] as Set<(frame: Frame) => void> | undefined;
      if (!set) throw new TypeError(`$on(): no event ${JSON.stringify(event)} (open, close, message)`);
      set.add(listener);
      return () => set.delete(listener);
    },
    $close() {
      // Calls first: the socket reports its close at once, and these were not lost but abandoned.
      queue.length = 0;
      for (const id of [...calls.keys()]) take(id)?.reject(new RpcError("CLOSED", "the client was closed"));
      socket.close();
      status = "closed";
    },
  };

  /** The client's methods with these call options; the controls and the connection are shared. */
  function view(timeoutMs: number): ActorClient<T> {
    return new Proxy(controls, {
      get(target, prop) {
        if (typeof prop !== "string" || prop === "then") return undefined; // not a thenable
        if (prop === "$with")
          return (callOptions: CallOptions = {}) =>
            view(checkTimeout(callOptions?.timeoutMs ?? timeoutMs, "$with({ timeoutMs })"));
        if (prop in target) return Reflect.get(target, prop);
        return (...args: unknown[]) => invoke(prop, args, timeoutMs);
      },
    }) as unknown as ActorClient<T>;
  }
  return view(defaultTimeout);
}

/** A timeout in ms: 0 (or Infinity) for none, else a positive number up to 2^31 - 1 (setTimeout's limit). */
function checkTimeout(ms: unknown, what: string): number {
  if (ms === Number.POSITIVE_INFINITY || ms === 0) return 0;
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0 || ms > 2 ** 31 - 1)
    throw new TypeError(`${what}: a timeout in milliseconds (0 or Infinity for none, at most 2^31 - 1)`);
  return ms;
}
