import type { Connection } from "partyserver";
import { ActorError } from "../errors";
import { type JsonValue, toJsonText, utf8Length } from "../json";

/**
 * What a connection carries across hibernation (in its WebSocket attachment): who it is, the
 * topics it listens to, the presence it shows others, and private data the actor keeps on it.
 */
export interface ConnectionState {
  userId: string | null;
  name: string | null;
  topics: string[];
  /** Visible to every connection (presence events); the client may update it. */
  presence: JsonValue | null;
  /** Private to the actor; only server code sets it. */
  data: JsonValue | null;
  joinedAt: number;
  /** Kept by the rpc part (src/rpc) when the actor offers methods: the caller's role, live queries. */
  rpc?: JsonValue;
}

export type ActorConnection = Connection<ConnectionState>;

/** Who is connecting: what `identify(request)` returns. */
export interface ConnectionIdentity {
  userId?: string | null;
  name?: string | null;
  topics?: string[];
  presence?: JsonValue | null;
  data?: JsonValue | null;
}

/**
 * The runtime refuses WebSocket attachments over 16 KiB (measured in local workerd 2026-11; 2 KiB
 * in older runtimes). partyserver keeps its own record (id, tags, URL) in the same attachment, so
 * the whole attachment is measured, as JSON, with a margin for the runtime's encoding.
 */
export const ATTACHMENT_LIMIT = 16 * 1024;
const MARGIN = 512;
export const TOPIC_MAX = 128;
const NAME_MAX = 128;

export function readState(connection: ActorConnection): ConnectionState {
  const state = connection.state as ConnectionState | null;
  return state ?? { userId: null, name: null, topics: [], presence: null, data: null, joinedAt: 0 };
}

/** Store the state on the connection, or throw CONNECTION_STATE_TOO_LARGE and keep the old one. */
export function writeState(connection: ActorConnection, next: ConnectionState): ConnectionState {
  const stored = WebSocket.prototype.deserializeAttachment.call(connection) as Record<string, unknown> | null;
  const bytes = utf8Length(JSON.stringify({ ...(stored ?? {}), __user: next }));
  if (bytes > ATTACHMENT_LIMIT - MARGIN)
    throw new ActorError(
      "CONNECTION_STATE_TOO_LARGE",
      `connection state would take ${bytes} bytes; the limit is ${ATTACHMENT_LIMIT - MARGIN}`,
      { bytes, limit: ATTACHMENT_LIMIT - MARGIN },
    );
  const previous = connection.state;
  try {
    connection.setState(next);
  } catch (err) {
    connection.setState(previous as ConnectionState | null); // partyserver caches before it serializes
    throw new ActorError("CONNECTION_STATE_TOO_LARGE", `the runtime refused the connection state: ${err}`);
  }
  return next;
}

/** A JSON value for presence or data, checked (INVALID_JSON); its size is checked with the whole state. */
export function checkJsonValue(value: unknown, what: string): JsonValue | null {
  const text = toJsonText(value, Number.POSITIVE_INFINITY, what);
  return text === null ? null : (JSON.parse(text) as JsonValue);
}

export function checkTopic(topic: unknown): string {
  if (
    typeof topic !== "string" ||
    topic.length === 0 ||
    topic.length > TOPIC_MAX ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters on purpose
    /[\u0000-\u001f]/.test(topic)
  )
    throw new ActorError("VALIDATION_FAILED", `a topic is 1-${TOPIC_MAX} printable characters`);
  return topic;
}

function checkName(value: unknown, what: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string" || value.length === 0 || value.length > NAME_MAX)
    throw new ActorError("VALIDATION_FAILED", `${what} must be 1-${NAME_MAX} characters`);
  return value;
}

/** The first state of a new connection. */
export function initialState(identity: ConnectionIdentity, maxTopics: number): ConnectionState {
  if (identity === null || typeof identity !== "object")
    throw new ActorError("VALIDATION_FAILED", "identify() must return an object");
  const topics = [...new Set((identity.topics ?? []).map(checkTopic))];
  if (topics.length > maxTopics)
    throw new ActorError("TOO_MANY_TOPICS", `a connection listens to at most ${maxTopics} topics`);
  return {
    userId: checkName(identity.userId, "userId"),
    name: checkName(identity.name, "userName"),
    topics,
    presence: checkJsonValue(identity.presence ?? null, "presence"),
    data: checkJsonValue(identity.data ?? null, "data"),
    joinedAt: Date.now(),
  };
}

/**
 * The default identity: `?userId=&userName=&topics=a,b` from the upgrade URL. Nothing here is
 * authenticated: an actor that needs to know who is connecting overrides `identify(request)`
 * and trusts only what its coordinator route verified.
 */
export function identityFromUrl(request: Request): ConnectionIdentity {
  const params = new URL(request.url).searchParams;
  const topics = params.get("topics");
  return {
    userId: params.get("userId"),
    name: params.get("userName"),
    topics: topics ? topics.split(",").filter((t) => t.length > 0) : [],
  };
}
