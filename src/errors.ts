/**
 * Typed errors that keep their `code` across Durable Object RPC.
 *
 * Current workerd carries an Error's own properties (`code`, `details`) across RPC, but older
 * runtimes and some paths (a message logged and re-thrown, a string in a WebSocket frame) keep only
 * the message. So the code and optional JSON details also ride in the message behind a fixed
 * prefix, and `ActorError.from(err)` reads them back from either.
 */
export type ErrorDetails = Record<string, unknown>;

const PREFIX = "ActorError:";

/** HTTP status for the error codes the framework and its actors use; anything else is 400 or 500. */
const STATUS_BY_CODE: Record<string, number> = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  INVALID_NAME: 400,
  INVALID_JSON: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  QUERY_TOO_LARGE: 413,
  SQL_ERROR: 400,
  MIGRATION_FAILED: 500,
  MIGRATION_WOULD_LOSE_ROWS: 500,
  MIGRATION_WOULD_BREAK_REFERENCES: 500,
  MIGRATION_EDITED: 500,
  MIGRATION_OUT_OF_ORDER: 500,
  INTERNAL: 500,
};

export class ActorError extends Error {
  override name = "ActorError";
  readonly code: string;
  readonly details: ErrorDetails | undefined;

  constructor(code: string, message: string, details?: ErrorDetails) {
    super(`${PREFIX}${code}:${message}${details ? `\u0000${JSON.stringify(details)}` : ""}`);
    this.code = code;
    this.details = details;
    // The readable text; the encoded form stays in `message` so it survives RPC.
    this.description = message;
  }

  /** The human message without the encoded code and details. */
  readonly description: string;

  /** HTTP status this error maps to (overridable per code with `ActorError.status`). */
  get status(): number {
    return ActorError.statusOf(this.code);
  }

  static statusOf(code: string): number {
    if (STATUS_BY_CODE[code]) return STATUS_BY_CODE[code];
    if (code.endsWith("_NOT_FOUND")) return 404;
    if (code.startsWith("INVALID_STATUS") || code.endsWith("_EXISTS") || code.endsWith("_CONFLICT"))
      return 409;
    return 400;
  }

  /** Register the HTTP status of an actor's own error code. */
  static defineStatus(code: string, status: number): void {
    STATUS_BY_CODE[code] = status;
  }

  /** Rebuild an ActorError from anything thrown, including errors that crossed RPC; undefined otherwise. */
  static from(err: unknown): ActorError | undefined {
    if (err instanceof ActorError) return err;
    const props = err as { name?: unknown; code?: unknown; description?: unknown; details?: unknown } | null;
    if (
      props?.name === "ActorError" &&
      typeof props.code === "string" &&
      typeof props.description === "string"
    )
      return new ActorError(
        props.code,
        props.description,
        (props.details as ErrorDetails | undefined) ?? undefined,
      );
    const message = err instanceof Error ? err.message : typeof err === "string" ? err : undefined;
    if (!message) return undefined;
    const at = message.indexOf(PREFIX);
    if (at < 0) return undefined;
    const rest = message.slice(at + PREFIX.length);
    const colon = rest.indexOf(":");
    if (colon < 0) return undefined;
    const code = rest.slice(0, colon);
    const body = rest.slice(colon + 1);
    const nul = body.indexOf("\u0000");
    if (nul < 0) return new ActorError(code, body);
    let details: ErrorDetails | undefined;
    try {
      details = JSON.parse(body.slice(nul + 1));
    } catch {
      details = undefined;
    }
    return new ActorError(code, body.slice(0, nul), details);
  }
}

/** SQLite's answers to bad SQL or data (syntax, unknown names, constraints, types): the caller's to fix. */
const CALLER_SQLITE_CODE = /\bSQLITE_(ERROR|CONSTRAINT|MISMATCH|RANGE|TOOBIG|AUTH)\b/;

/**
 * A SQLite error raised by the caller's SQL as a typed `SQL_ERROR` (400), SQLite's message and code
 * kept (`details.sqlite`). Typed errors (an `ActorError`, or a trigger's `RAISE` of one) and
 * anything else (the storage failing) are answered as they are.
 */
export function sqlError(err: unknown): unknown {
  if (!(err instanceof Error) || ActorError.from(err)) return err;
  const code = CALLER_SQLITE_CODE.exec(err.message);
  return code ? new ActorError("SQL_ERROR", err.message.slice(0, 1_000), { sqlite: code[0] }) : err;
}

/** Shorthand for a 400 with a field-level reason. */
export function badInput(message: string, details?: ErrorDetails): ActorError {
  return new ActorError("VALIDATION_FAILED", message, details);
}
