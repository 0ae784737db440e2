import type { Connection } from "partyserver";
import type * as z from "zod/mini";
import {
  decodeFrame,
  errorFrame,
  isSystemFrame,
  leadingIdOf,
  type PresenceEntry,
  parseSystemMessage,
  presenceOf,
  replyIdOf,
  type SystemMessage,
} from "./broadcast/protocol";
import {
  type ActorConnection,
  type ConnectionIdentity,
  type ConnectionState,
  checkJsonValue,
  checkTopic,
  initialState,
  readState,
  writeState,
} from "./broadcast/state";
import { parseInput } from "./coordinator/validate";
import { ActorError } from "./errors";
import type { JsonValue } from "./json";

export type { PresenceEntry } from "./broadcast/protocol";
export {
  type ActorConnection,
  type ConnectionIdentity,
  type ConnectionState,
  identityFromUrl,
} from "./broadcast/state";

/** Connection policy, set per actor with `defineActor({ messages, presence, … })`. */
export interface BroadcastConfig {
  /** zod/mini schema of the JSON messages clients may send; without one, client messages are refused. */
  messages?: z.ZodMiniType;
  /** Send presence join/leave/update events to the other connections (default true). */
  presence?: boolean;
  /** Largest client message in bytes (default 65 536). */
  maxMessageBytes?: number;
  /** Topics one connection may listen to (default 32). */
  maxTopics?: number;
}

export interface BroadcastOptions {
  /** Only connections subscribed to this topic. */
  topic?: string;
  /** Connections (or their ids) left out, typically the sender. */
  except?: string | Connection<unknown> | ReadonlyArray<string | Connection<unknown>>;
}

/** Where connections come from: partyserver's `Server` (hibernating sockets). */
export interface ConnectionSource {
  getConnections<T = unknown>(tag?: string): Iterable<Connection<T>>;
  getConnection<T = unknown>(id: string): Connection<T> | undefined;
}

/** What the actor decides: who may listen to a topic, and what a client message does. */
export interface ConnectionHooks {
  canSubscribe(connection: ActorConnection, topic: string): boolean | Promise<boolean>;
  onClientMessage(connection: ActorConnection, message: unknown): unknown;
  /** A decoded frame, before the framework's and the actor's own: true when it was handled (RPC). */
  onFrame?(connection: ActorConnection, frame: unknown): boolean | Promise<boolean>;
}

/**
 * The actor's WebSocket connections: typed state that survives hibernation, topics, presence,
 * broadcast, and the handling of client frames (validated, answered with an error frame when
 * refused; the socket stays open).
 */
export class Connections {
  readonly #source: ConnectionSource;
  readonly #hooks: ConnectionHooks;
  readonly #messages: z.ZodMiniType | undefined;
  readonly #presence: boolean;
  readonly #maxMessageBytes: number;
  readonly #maxTopics: number;

  constructor(source: ConnectionSource, config: BroadcastConfig, hooks: ConnectionHooks) {
    this.#source = source;
    this.#hooks = hooks;
    this.#messages = config.messages;
    this.#presence = config.presence ?? true;
    this.#maxMessageBytes = config.maxMessageBytes ?? 64 * 1024;
    this.#maxTopics = config.maxTopics ?? 32;
  }

  /**
   * Send `message` (a string or bytes as they are, anything else as JSON) to every open
   * connection, or to a topic's subscribers, leaving out `except`. Returns how many got it.
   */
  broadcast(message: unknown, options: BroadcastOptions = {}): number {
    const frame = encode(message);
    const topic = options.topic === undefined ? undefined : checkTopic(options.topic);
    const except = exceptIds(options.except);
    let sent = 0;
    for (const connection of this.all()) {
      if (except.has(connection.id)) continue;
      if (topic !== undefined && !readState(connection).topics.includes(topic)) continue;
      if (send(connection, frame)) sent++;
    }
    return sent;
  }

  /** Every open connection. */
  all(): ActorConnection[] {
    return [...this.#source.getConnections<ConnectionState>()];
  }

  get(id: string): ActorConnection | undefined {
    return this.#source.getConnection<ConnectionState>(id);
  }

  state(connection: ActorConnection): ConnectionState {
    return readState(connection);
  }

  /** Who is connected: one entry per connection (a user with two tabs has two). */
  presence(): PresenceEntry[] {
    return this.all().map((c) => presenceOf(c.id, readState(c)));
  }

  /** Replace a connection's whole state (the 16 KiB guard applies): for parts such as rpc. */
  setState(connection: ActorConnection, state: ConnectionState): ConnectionState {
    return writeState(connection, state);
  }

  /** Send one frame to one connection; false (and the socket closed) when it cannot take it. */
  send(connection: ActorConnection, frame: string): boolean {
    return send(connection, frame);
  }

  /** Keep private data on a connection (survives hibernation; counts toward the 16 KiB attachment). */
  setData(connection: ActorConnection, data: unknown): ConnectionState {
    return writeState(connection, { ...readState(connection), data: checkJsonValue(data, "data") });
  }

  /** Change what others see of a connection, and tell them. */
  setPresence(connection: ActorConnection, presence: unknown): ConnectionState {
    const state = writeState(connection, {
      ...readState(connection),
      presence: checkJsonValue(presence, "presence"),
    });
    if (this.#presence)
      this.broadcast(
        { type: "presence:update", user: presenceOf(connection.id, state) },
        { except: connection },
      );
    return state;
  }

  /** Subscribe a connection to a topic (server side; clients send {type:"subscribe"}). */
  subscribe(connection: ActorConnection, topic: string): ConnectionState {
    checkTopic(topic);
    const state = readState(connection);
    if (state.topics.includes(topic)) return state;
    if (state.topics.length >= this.#maxTopics)
      throw new ActorError("TOO_MANY_TOPICS", `a connection listens to at most ${this.#maxTopics} topics`);
    return writeState(connection, { ...state, topics: [...state.topics, topic] });
  }

  unsubscribe(connection: ActorConnection, topic: string): ConnectionState {
    checkTopic(topic);
    const state = readState(connection);
    if (!state.topics.includes(topic)) return state;
    return writeState(connection, { ...state, topics: state.topics.filter((t) => t !== topic) });
  }

  /** Counts for `stats()`. */
  summary(): { total: number; users: number; topics: Record<string, number> } {
    const users = new Set<string>();
    const topics: Record<string, number> = {};
    let total = 0;
    for (const connection of this.all()) {
      total++;
      const state = readState(connection);
      if (state.userId !== null) users.add(state.userId);
      for (const topic of state.topics) topics[topic] = (topics[topic] ?? 0) + 1;
    }
    return { total, users: users.size, topics };
  }

  // ---- framework side: called by the actor's partyserver hooks ----

  /** The first state of a connection from who it says it is (throws a typed error on bad input). */
  stateFor(identity: ConnectionIdentity): ConnectionState {
    return initialState(identity, this.#maxTopics);
  }

  /** A new connection: store its first state, show it who is here, tell the others. */
  join(connection: ActorConnection, state: ConnectionState): void {
    writeState(connection, state);
    if (!this.#presence) return;
    send(connection, JSON.stringify({ type: "presence:list", self: connection.id, users: this.presence() }));
    this.broadcast({ type: "presence:join", user: presenceOf(connection.id, state) }, { except: connection });
  }

  leave(connection: ActorConnection): void {
    if (!this.#presence) return;
    this.broadcast(
      { type: "presence:leave", user: presenceOf(connection.id, readState(connection)) },
      { except: connection },
    );
  }

  /** One frame from a client. Never throws: a refused frame is answered with an error frame. */
  async message(connection: ActorConnection, raw: string | ArrayBuffer | ArrayBufferView): Promise<void> {
    let frame: unknown;
    try {
      frame = decodeFrame(raw, this.#maxMessageBytes);
      if (this.#hooks.onFrame && (await this.#hooks.onFrame(connection, frame))) return;
      if (isSystemFrame(frame)) {
        await this.#system(connection, parseSystemMessage(frame as Record<string, unknown>));
        return;
      }
      if (!this.#messages)
        throw new ActorError("INVALID_MESSAGE", "this actor accepts no messages from clients");
      await this.#hooks.onClientMessage(connection, parseInput(this.#messages, frame));
    } catch (err) {
      const known = ActorError.from(err);
      if (!known) console.error("a client message failed", err);
      send(
        connection,
        errorFrame(
          known ?? new ActorError("INTERNAL", "the message could not be handled"),
          // Not decoded (too large, not JSON): the id at its start, if plainly there, names the call.
          frame === undefined ? leadingIdOf(raw) : replyIdOf(frame),
        ),
      );
    }
  }

  async #system(connection: ActorConnection, message: SystemMessage): Promise<void> {
    switch (message.type) {
      case "subscribe": {
        const topic = checkTopic(message.topic);
        if (!(await this.#hooks.canSubscribe(connection, topic)))
          throw new ActorError("FORBIDDEN", `not allowed to subscribe to ${JSON.stringify(topic)}`);
        const state = this.subscribe(connection, topic);
        send(connection, JSON.stringify({ type: "subscribed", topics: state.topics }));
        return;
      }
      case "unsubscribe": {
        const state = this.unsubscribe(connection, message.topic);
        send(connection, JSON.stringify({ type: "subscribed", topics: state.topics }));
        return;
      }
      case "presence:list":
        send(
          connection,
          JSON.stringify({ type: "presence:list", self: connection.id, users: this.presence() }),
        );
        return;
      case "presence:update":
        this.setPresence(connection, message.presence);
        return;
    }
  }
}

function encode(message: unknown): string | ArrayBuffer | ArrayBufferView {
  if (typeof message === "string" || message instanceof ArrayBuffer || ArrayBuffer.isView(message))
    return message;
  let text: string | undefined;
  try {
    text = JSON.stringify(message as JsonValue);
  } catch {
    text = undefined; // a bigint, or a cycle
  }
  if (text === undefined)
    throw new ActorError("INVALID_JSON", "a broadcast message must be a string, bytes or JSON");
  return text;
}

function exceptIds(except: BroadcastOptions["except"]): Set<string> {
  if (except === undefined) return new Set();
  const list = Array.isArray(except) ? except : [except];
  return new Set(
    list.map((item: string | Connection<unknown>) => (typeof item === "string" ? item : item.id)),
  );
}

/** Send, closing a socket that cannot take it (as partyserver does); true when sent. */
function send(connection: Connection<unknown>, frame: string | ArrayBuffer | ArrayBufferView): boolean {
  try {
    connection.send(frame);
    return true;
  } catch {
    try {
      connection.close(1011, "send failed");
    } catch {}
    return false;
  }
}
