import { ActorError } from "../errors";

/**
 * RPC frames on an actor socket (JSON text; DESIGN.md §4). Client → actor:
 *   { id, method, args? }                      call an offered method (args: its arguments, in order)
 *   { cancel: id }                             stop a streaming call
 *   { id, subscribe: { sql, params?, fromLsn? } }  start (or resume) a live query; its id names it
 *   { id, unsubscribe: sub }                   stop a live query
 * Actor → client:
 *   { id, result } · { id, error: { code, message, details? } }
 *   { id, chunk } … { id, done: true }         a streaming result ({ id, done: true, cancelled: true } after a cancel)
 *   { sub, since, lsn, rows, removed }         a live query's changes after a commit: rows added or
 *                                              changed, keys that left; `since` is the LSN the client
 *                                              must hold (anything else is a gap: resubscribe)
 *   { sub, error }                             a live query that ended
 * An RPC frame has no `type`; anything with a `type` is a broadcast frame (src/broadcast).
 */
export type CallId = string | number;

export type RpcFrame =
  | { kind: "call"; id: CallId; method: string; args: unknown[] }
  | { kind: "cancel"; id: CallId }
  | { kind: "subscribe"; id: CallId; sql: unknown; params: unknown; fromLsn: unknown }
  | { kind: "unsubscribe"; id: CallId; sub: CallId };

const KEYS = ["method", "cancel", "subscribe", "unsubscribe"] as const;
export const MAX_ARGS = 16;

/** Is this decoded frame meant for RPC? */
export function isRpcFrame(frame: unknown): frame is Record<string, unknown> {
  if (frame === null || typeof frame !== "object" || Array.isArray(frame)) return false;
  if ("type" in frame) return false;
  return KEYS.some((k) => k in frame);
}

export function isCallId(id: unknown): id is CallId {
  return (typeof id === "string" && id.length > 0 && id.length <= 128) || Number.isSafeInteger(id);
}

/** The id a client gave, if usable, to correlate an error with. */
export function idOf(frame: Record<string, unknown>): CallId | undefined {
  const id = "cancel" in frame && !("id" in frame) ? frame.cancel : frame.id;
  return isCallId(id) ? id : undefined;
}

export function parseRpcFrame(frame: Record<string, unknown>): RpcFrame {
  const present = KEYS.filter((k) => k in frame);
  if (present.length !== 1)
    throw new ActorError("INVALID_MESSAGE", `an RPC frame has exactly one of ${KEYS.join(", ")}`);
  if (present[0] === "cancel") {
    if (!isCallId(frame.cancel)) throw new ActorError("VALIDATION_FAILED", "cancel: the id of a call");
    return { kind: "cancel", id: frame.cancel };
  }
  if (!isCallId(frame.id))
    throw new ActorError("VALIDATION_FAILED", "id: a string of 1-128 characters or a safe integer");
  const id = frame.id;
  switch (present[0]) {
    case "method": {
      if (typeof frame.method !== "string" || frame.method.length === 0 || frame.method.length > 128)
        throw new ActorError("VALIDATION_FAILED", "method: a method name");
      const args = frame.args ?? [];
      if (!Array.isArray(args) || args.length > MAX_ARGS)
        throw new ActorError("VALIDATION_FAILED", `args: a list of at most ${MAX_ARGS} arguments`);
      return { kind: "call", id, method: frame.method, args };
    }
    case "subscribe": {
      const s = frame.subscribe as Record<string, unknown> | null;
      if (s === null || typeof s !== "object" || Array.isArray(s))
        throw new ActorError("VALIDATION_FAILED", "subscribe: { sql, params?, fromLsn? }");
      return { kind: "subscribe", id, sql: s.sql, params: s.params, fromLsn: s.fromLsn };
    }
    default: {
      if (!isCallId(frame.unsubscribe))
        throw new ActorError("VALIDATION_FAILED", "unsubscribe: the id of a live query");
      return { kind: "unsubscribe", id, sub: frame.unsubscribe };
    }
  }
}

export function errorBody(err: ActorError): string {
  return JSON.stringify({
    code: err.code,
    message: err.description,
    ...(err.details ? { details: err.details } : {}),
  });
}

/** `{ id, <key>: <json> }` from JSON text already made (results are serialized once). */
export function replyFrame(id: CallId, key: "result" | "chunk" | "error", json: string): string {
  return `{"id":${JSON.stringify(id)},"${key}":${json}}`;
}
