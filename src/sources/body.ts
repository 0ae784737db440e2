import type { AsyncBuffer } from "../tiering/r2-store";
import type { Deadline } from "./deadline";
import { badFormat, sourceError } from "./errors";

/** One file of a source, opened: its bytes as a stream (and random access, for R2 Parquet). */
export interface SourceBody {
  /** The reference (and, for a glob, the key) errors name. */
  label: string;
  contentType: string | null;
  stream(): ReadableStream<Uint8Array>;
  /** Random access without reading the whole file (R2): Parquet reads only the row groups it keeps. */
  random?: AsyncBuffer;
  /** Told the whole body once it was read to the end (the cache keeps it). */
  keep?: (bytes: Uint8Array) => void;
  keepLimit?: number;
}

/**
 * The body's bytes, chunk by chunk as they arrive: SOURCE_TOO_LARGE past `limit`, SOURCE_TIMEOUT
 * past the deadline. Memory: one chunk (plus what the cache may keep, at most `keepLimit`).
 */
export async function* byteChunks(
  body: SourceBody,
  limit: number,
  deadline: Deadline,
): AsyncGenerator<Uint8Array> {
  const reader = body.stream().getReader();
  let total = 0;
  let kept: Uint8Array[] | undefined = body.keep ? [] : undefined;
  try {
    for (;;) {
      const { done, value } = await deadline.race(reader.read()).catch((err) => {
        throw deadline.expired
          ? deadline.error()
          : sourceError("SOURCE_UNREACHABLE", body.label, `read failed: ${err}`);
      });
      if (done) break;
      total += value.byteLength;
      if (total > limit)
        throw sourceError("SOURCE_TOO_LARGE", body.label, `more than ${limit} bytes`, { maxBytes: limit });
      if (kept) {
        if (total > (body.keepLimit ?? 0)) kept = undefined;
        else kept.push(value);
      }
      yield value;
    }
    if (kept && body.keep) {
      const all = new Uint8Array(total);
      let at = 0;
      for (const part of kept) {
        all.set(part, at);
        at += part.byteLength;
      }
      body.keep(all);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** The body as UTF-8 text, chunk by chunk; invalid UTF-8 is SOURCE_BAD_FORMAT at its byte offset. */
export async function* textChunks(
  body: SourceBody,
  limit: number,
  deadline: Deadline,
): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  let offset = 0;
  for await (const chunk of byteChunks(body, limit, deadline)) {
    try {
      yield decoder.decode(chunk, { stream: true });
    } catch (err) {
      if (err instanceof TypeError) throw badFormat(body.label, "not UTF-8 text", { offset });
      throw err;
    }
    offset += chunk.byteLength;
  }
  try {
    const rest = decoder.decode();
    if (rest) yield rest;
  } catch {
    throw badFormat(body.label, "not UTF-8 text (truncated character)", { offset });
  }
}

/** The whole body (formats that need it: a JSON document, remote Parquet), at most `limit` bytes. */
export async function wholeBody(body: SourceBody, limit: number, deadline: Deadline): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of byteChunks(body, limit, deadline)) {
    parts.push(chunk);
    total += chunk.byteLength;
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.byteLength;
  }
  return all;
}
