import { ActorError } from "../errors";
import { type JsonValue, utf8Length } from "../json";
import type { ConnectionState } from "./state";

/**
 * The wire protocol between a client and an actor: JSON text frames with a `type`.
 *
 * Client → actor, handled by the framework:
 *   {type:"subscribe", topic} · {type:"unsubscribe", topic} → {type:"subscribed", topics}
 *   {type:"presence:list"} → {type:"presence:list", self, users}
 *   {type:"presence:update", presence} → others get {type:"presence:update", user}
 * Any other frame is the actor's own message, checked against the schema it declares.
 * Actor → client: the actor's broadcasts, presence events
 * ({type:"presence:join" | "presence:leave" | "presence:update", user}) and
 * {type:"error", code, message, replyTo?} for a frame that was refused (the socket stays open).
 * "ping" is answered "pong" by the runtime without waking the actor.
 */
export const SYSTEM_TYPES = new Set(["subscribe", "unsubscribe", "presence:list", "presence:update"]);

export type SystemMessage =
  | { type: "subscribe" | "unsubscribe"; topic: string }
  | { type: "presence:list" }
  | { type: "presence:update"; presence: unknown };

/**
 * Check a framework frame. Written out rather than a zod schema so that actors which declare no
 * schemas do not carry zod in their bundle (about 36 KiB).
 */
export function parseSystemMessage(frame: Record<string, unknown>): SystemMessage {
  const type = frame.type as SystemMessage["type"];
  if (type === "subscribe" || type === "unsubscribe") {
    if (typeof frame.topic !== "string" || frame.topic.length === 0 || frame.topic.length > 128)
      throw new ActorError("VALIDATION_FAILED", "topic: a topic is a string of 1-128 characters");
    return { type, topic: frame.topic };
  }
  if (type === "presence:update") {
    if (!("presence" in frame)) throw new ActorError("VALIDATION_FAILED", "presence: required");
    return { type, presence: frame.presence };
  }
  return { type: "presence:list" };
}

/** One connection as others see it. */
export interface PresenceEntry {
  id: string;
  userId: string | null;
  name: string | null;
  presence: JsonValue | null;
  joinedAt: number;
}

export function presenceOf(id: string, state: ConnectionState): PresenceEntry {
  return { id, userId: state.userId, name: state.name, presence: state.presence, joinedAt: state.joinedAt };
}

/** `code` and `message` flat (as ever) and under `data` too, the `{ type, data }` shape of DESIGN.md §4. */
export function errorFrame(err: ActorError, replyTo?: string | number): string {
  return JSON.stringify({
    type: "error",
    code: err.code,
    message: err.description,
    data: { code: err.code, message: err.description },
    ...(replyTo !== undefined ? { replyTo } : {}),
  });
}

/** A client frame as JSON, or a typed error: binary, too large, or not JSON. */
export function decodeFrame(raw: string | ArrayBuffer | ArrayBufferView, maxBytes: number): unknown {
  if (typeof raw !== "string")
    throw new ActorError("INVALID_MESSAGE", "binary frames are not accepted; send JSON text");
  // A UTF-8 character is at most 3 bytes per UTF-16 unit: skip measuring short frames.
  if (raw.length * 3 > maxBytes && utf8Length(raw) > maxBytes)
    throw new ActorError("MESSAGE_TOO_LARGE", `messages are at most ${maxBytes} bytes`);
  try {
    return JSON.parse(raw);
  } catch {
    throw new ActorError("INVALID_JSON", "messages must be JSON");
  }
}

/** The `id` a client put on its frame, echoed as `replyTo` on an error. */
export function replyIdOf(frame: unknown): string | number | undefined {
  if (frame === null || typeof frame !== "object" || Array.isArray(frame)) return undefined;
  const id = (frame as { id?: unknown }).id;
  return (typeof id === "string" && id.length <= 128) || (typeof id === "number" && Number.isFinite(id))
    ? id
    : undefined;
}

/**
 * The `id` at the very start of a frame that could not be decoded (too large, not JSON), read
 * without parsing it: only its first 200 characters are looked at, and only `{"id":"…",` with a
 * plain string of 1-128 characters (no escapes; it is echoed JSON-encoded) or
 * `{"id":<safe integer>,` is taken, the shape the typed client sends. Anything else (the id
 * later on, an escape, a huge number) gives undefined.
 */
const LEADING_ID = /^\s*\{\s*"id"\s*:\s*(?:"([^"\\]{1,128})"|(-?\d{1,16}))\s*[,}]/;
export function leadingIdOf(raw: string | ArrayBuffer | ArrayBufferView): string | number | undefined {
  if (typeof raw !== "string") return undefined;
  const match = LEADING_ID.exec(raw.slice(0, 200));
  if (!match) return undefined;
  if (match[1] !== undefined) return match[1];
  const n = Number(match[2]);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function isSystemFrame(frame: unknown): boolean {
  return (
    frame !== null &&
    typeof frame === "object" &&
    SYSTEM_TYPES.has((frame as { type?: unknown }).type as string)
  );
}
