import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ActorError } from "../errors";

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** Map anything thrown by a route or an actor (also across RPC) to `{error:{code,message}}`. */
export function toErrorResponse(c: Context, err: unknown): Response {
  const actorError = ActorError.from(err);
  if (actorError?.status === 401) c.header("WWW-Authenticate", 'Bearer realm="dosql-actors"');
  // A typed 503 (RELEASE_FAILED, …) means "nothing changed, try again": say when.
  if (actorError?.status === 503) c.header("Retry-After", "1");
  if (actorError)
    return send(c, actorError.status, actorError.code, actorError.description, actorError.details);
  if (err instanceof HTTPException) {
    const status = err.status;
    const code = status === 413 ? "PAYLOAD_TOO_LARGE" : status === 404 ? "NOT_FOUND" : "BAD_REQUEST";
    return send(c, status, code, err.message || code);
  }
  if (isTransientActorFailure(err)) {
    // The actor was reset, overloaded or unreachable: the call may be retried (idempotent routes).
    c.header("Retry-After", "1");
    return send(c, 503, "ACTOR_UNAVAILABLE", "the actor is temporarily unavailable; retry the request");
  }
  // Anything else is a defect: its text stays in the log (with a trace id), never in the answer.
  const traceId = c.req.header("cf-ray") ?? crypto.randomUUID();
  console.error(`unhandled error in coordinator (trace ${traceId})`, err);
  c.header("X-Trace-Id", traceId);
  return send(c, 500, "INTERNAL", `internal error (trace ${traceId})`, { traceId });
}

/** Errors the runtime marks as retryable or overloaded (Durable Object reset, connection lost). */
function isTransientActorFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const flags = err as Error & { retryable?: unknown; overloaded?: unknown; durableObjectReset?: unknown };
  return (
    flags.retryable === true ||
    flags.overloaded === true ||
    flags.durableObjectReset === true ||
    /Durable Object reset|Network connection lost|durable object.*(overloaded|aborted)/i.test(err.message)
  );
}

function send(
  c: Context,
  status: number,
  code: string,
  message: string,
  details?: Record<string, unknown>,
): Response {
  const body: ErrorBody = { error: { code, message } };
  if (details) body.error.details = details;
  return c.json(body, status as ContentfulStatusCode);
}
