import Papa from "papaparse";
import { type SourceBody, textChunks } from "../body";
import type { Deadline } from "../deadline";
import { badFormat } from "../errors";
import type { RowSink } from "../sink";

/**
 * CSV (RFC 4180: a header row, `"` quotes, `""` escapes, newlines inside quotes) with papaparse's
 * parser, fed chunk by chunk: the records of a chunk are parsed and the partial last one carried to
 * the next, so memory is one chunk whatever the file's size. Every record must have the header's
 * field count; an unterminated quote is SOURCE_BAD_FORMAT.
 */
export async function loadCsv(
  body: SourceBody,
  sink: RowSink,
  maxBytes: number,
  deadline: Deadline,
): Promise<void> {
  let parser: InstanceType<typeof Papa.Parser> | undefined;
  let partial = "";
  let base = 0;
  let record = 0;
  const take = (result: Papa.ParseResult<string[]>) => {
    const error = result.errors[0];
    if (error)
      throw badFormat(body.label, `${error.message} (record ${record + (error.row ?? 0) + 1})`, {
        offset: base + (error.index ?? 0),
      });
    for (const row of result.data) {
      record++;
      if (row.length === 1 && row[0] === "") continue; // a blank line
      if (!sink.header) {
        sink.header = row.map((name, i) => (i === 0 ? name.replace(/^\uFEFF/, "") : name).trim());
        if (sink.header.some((n) => n.length === 0 || n.length > 128))
          throw badFormat(body.label, "every header field must name its column", { line: 1 });
        continue;
      }
      sink.addValues(row, record);
    }
  };
  for await (const text of textChunks(body, maxBytes, deadline)) {
    const aggregate = partial + text;
    parser ??= new Papa.Parser({
      delimiter: ",",
      newline: aggregate.includes("\r\n") ? "\r\n" : "\n",
      quoteChar: '"',
    });
    const result = parser.parse(aggregate, base, true);
    take(result);
    partial = aggregate.substring(result.meta.cursor - base);
    base = result.meta.cursor;
  }
  if (parser && partial.length) {
    // The last record (no newline after it), or an unterminated quote.
    take(parser.parse(partial, base, false));
  }
  sink.end();
}
