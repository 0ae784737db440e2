import { ActorError } from "../errors";

// The typed errors of sources: every one names the source it is about (`details.source`).
ActorError.defineStatus("SOURCES_DISABLED", 400);
ActorError.defineStatus("INVALID_SOURCE", 400);
ActorError.defineStatus("SOURCE_NOT_ALLOWED", 403);
ActorError.defineStatus("SOURCE_REDIRECT_REFUSED", 403);
ActorError.defineStatus("SOURCE_TOO_LARGE", 413);
ActorError.defineStatus("SOURCE_TIMEOUT", 504);
ActorError.defineStatus("SOURCE_UNREACHABLE", 502);
ActorError.defineStatus("SOURCE_BAD_CONTENT_TYPE", 415);
ActorError.defineStatus("SOURCE_BAD_FORMAT", 422);
ActorError.defineStatus("SOURCE_NO_MATCH", 404);
ActorError.defineStatus("UNKNOWN_BINDING", 400);

export type SourceErrorCode =
  | "INVALID_SOURCE"
  | "SOURCE_NOT_ALLOWED"
  | "SOURCE_REDIRECT_REFUSED"
  | "SOURCE_TOO_LARGE"
  | "SOURCE_TIMEOUT"
  | "SOURCE_UNREACHABLE"
  | "SOURCE_BAD_CONTENT_TYPE"
  | "SOURCE_BAD_FORMAT"
  | "SOURCE_NO_MATCH"
  | "UNKNOWN_BINDING";

/** `CODE: <source>: message`, with the source in the details. */
export function sourceError(
  code: SourceErrorCode,
  source: string,
  message: string,
  details?: Record<string, unknown>,
): ActorError {
  return new ActorError(code, `${source}: ${message}`, { source, ...details });
}

/** A parse error at a place in a file: line (NDJSON, CSV rows) or byte offset (Parquet, JSON). */
export function badFormat(
  source: string,
  message: string,
  at: { line?: number; offset?: number },
): ActorError {
  const where =
    at.line !== undefined ? ` at line ${at.line}` : at.offset !== undefined ? ` at offset ${at.offset}` : "";
  return sourceError("SOURCE_BAD_FORMAT", source, `${message}${where}`, at);
}

export function reasonOf(err: unknown): string {
  return ActorError.from(err)?.description ?? (err instanceof Error ? err.message : String(err));
}
