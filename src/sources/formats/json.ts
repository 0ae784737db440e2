import { type SourceBody, textChunks, wholeBody } from "../body";
import type { Deadline } from "../deadline";
import { badFormat } from "../errors";
import type { RowSink } from "../sink";

/** NDJSON: one JSON object per line, streamed line by line (blank lines skipped). */
export async function loadNdjson(
  body: SourceBody,
  sink: RowSink,
  maxBytes: number,
  deadline: Deadline,
): Promise<void> {
  let rest = "";
  let line = 0;
  const take = (text: string) => {
    line++;
    const trimmed = text.endsWith("\r") ? text.slice(0, -1) : text;
    if (trimmed.trim() === "") return;
    let row: unknown;
    try {
      row = JSON.parse(trimmed);
    } catch (err) {
      throw badFormat(body.label, `not JSON (${(err as Error).message})`, { line });
    }
    sink.addObject(row, line);
  };
  for await (const text of textChunks(body, maxBytes, deadline)) {
    rest += text;
    let at = rest.indexOf("\n");
    let from = 0;
    while (at >= 0) {
      take(rest.slice(from, at));
      from = at + 1;
      at = rest.indexOf("\n", from);
    }
    rest = rest.slice(from);
  }
  if (rest.length) take(rest);
  sink.end();
}

/**
 * JSON: an array of objects, or an object holding one under `path` (`#path=data.items`). The
 * document is parsed whole, so it is bounded by maxJsonBytes (NDJSON streams: prefer it for size).
 */
export async function loadJson(
  body: SourceBody,
  sink: RowSink,
  maxJsonBytes: number,
  path: string[] | undefined,
  deadline: Deadline,
): Promise<void> {
  const bytes = await wholeBody(body, maxJsonBytes, deadline);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw badFormat(body.label, "not UTF-8 text", {});
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const position = /position (\d+)/.exec(message)?.[1];
    throw badFormat(body.label, `not JSON (${message})`, position ? { offset: Number(position) } : {});
  }
  let rows: unknown = doc;
  for (const field of path ?? []) {
    rows =
      typeof rows === "object" && rows !== null && !Array.isArray(rows)
        ? (rows as Record<string, unknown>)[field]
        : undefined;
  }
  if (!Array.isArray(rows))
    throw badFormat(
      body.label,
      path
        ? `no array at ${path.join(".")}`
        : "the document is not an array (name the field holding one with #path=…)",
      {},
    );
  for (let i = 0; i < rows.length; i++) sink.addObject(rows[i], i + 1);
  sink.end();
}
