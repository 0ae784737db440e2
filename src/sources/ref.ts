import type { SourceRef } from "../sql/sources";
import { sourceError } from "./errors";

export const FORMATS = ["json", "ndjson", "csv", "parquet"] as const;
export type Format = (typeof FORMATS)[number];

/** A `'https://…'`, `'http://…'` or `'r2://<binding>/<key or glob>'` reference, checked. */
export interface SourceSpec {
  /** The reference as written in the SQL (errors name it). */
  label: string;
  scheme: "https" | "http" | "r2";
  /** Remote sources: the URL fetched (the fragment, which holds options, is never sent). */
  url?: URL;
  /** R2 sources. */
  binding?: string;
  key?: string;
  /** Explicit (`#format=csv`) or by extension; undefined: by the response's content type. */
  format?: Format;
  /** JSON: the dotted field holding the array of rows (`#path=data.items`); default: the document is the array. */
  path?: string[];
  /** Declared columns (`#columns=id:INTEGER,name:TEXT`): CSV and JSON values get these types; else sampled. */
  columns?: { name: string; type: string }[];
}

const EXTENSIONS: Record<string, Format> = {
  json: "json",
  ndjson: "ndjson",
  jsonl: "ndjson",
  csv: "csv",
  parquet: "parquet",
};
const COLUMN = /^([A-Za-z_][A-Za-z0-9_ ]{0,63}):([A-Za-z]{1,16})$/;
const TYPES = new Set([
  "INTEGER",
  "INT",
  "REAL",
  "FLOAT",
  "DOUBLE",
  "NUMERIC",
  "TEXT",
  "BLOB",
  "BOOLEAN",
  "ANY",
]);
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters refused on purpose
const CONTROL_OR_BACKSLASH = /[\u0000-\u001f\\]/;
const R2_REF = /^r2:\/\/([A-Za-z0-9_-]{1,64})\/(.+)$/;

export function parseSpec(ref: SourceRef): SourceSpec {
  const label = ref.ref;
  const hash = label.indexOf("#");
  const body = hash < 0 ? label : label.slice(0, hash);
  const options = new URLSearchParams(hash < 0 ? "" : label.slice(hash + 1));
  const invalid = (why: string) => sourceError("INVALID_SOURCE", label, why);
  for (const key of options.keys())
    if (key !== "format" && key !== "path" && key !== "columns")
      throw invalid(`unknown option ${JSON.stringify(key)} (format, path, columns)`);
  const spec: SourceSpec = { label, scheme: "https" };
  if (ref.scheme === "r2") {
    const m = R2_REF.exec(body);
    const key = m?.[2] ?? "";
    if (
      !m ||
      key.startsWith("/") ||
      key.includes("//") ||
      key.split("/").includes("..") ||
      CONTROL_OR_BACKSLASH.test(key)
    )
      throw invalid("expected 'r2://<binding>/<key>' (a key, or a glob with * wildcards)");
    Object.assign(spec, { scheme: "r2", binding: m[1], key });
  } else if (ref.scheme === "https" || ref.scheme === "http") {
    let url: URL;
    try {
      url = new URL(body);
    } catch {
      throw invalid("not a URL");
    }
    if (url.username || url.password)
      throw sourceError("SOURCE_NOT_ALLOWED", label, "credentials in a URL are never sent");
    spec.scheme = ref.scheme;
    spec.url = url;
  } else throw invalid(`no source reads '${ref.scheme}://' references`);

  const explicit = options.get("format");
  if (explicit !== null) {
    if (!(FORMATS as readonly string[]).includes(explicit))
      throw invalid(`format must be one of ${FORMATS.join(", ")}`);
    spec.format = explicit as Format;
  } else {
    const path = spec.url ? spec.url.pathname : spec.key!;
    const ext = /\.([A-Za-z]+)$/.exec(path)?.[1].toLowerCase();
    spec.format = ext ? EXTENSIONS[ext] : undefined;
    if (!spec.format && spec.scheme === "r2")
      throw invalid("no format: name a .json, .ndjson, .csv or .parquet key, or add #format=…");
  }
  const path = options.get("path");
  if (path !== null) {
    const fields = path.split(".");
    if (fields.some((f) => f.length === 0 || f.length > 64)) throw invalid("path must be dotted field names");
    spec.path = fields;
  }
  const columns = options.get("columns");
  if (columns !== null) {
    spec.columns = columns.split(",").map((c) => {
      const m = COLUMN.exec(c.trim());
      if (!m || !TYPES.has(m[2].toUpperCase()))
        throw invalid(`columns: ${JSON.stringify(c)} is not name:TYPE`);
      return { name: m[1], type: m[2].toUpperCase() === "ANY" ? "" : m[2].toUpperCase() };
    });
    if (spec.columns.length > 100) throw invalid("at most 100 columns");
  }
  return spec;
}
