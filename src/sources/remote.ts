import { isPrivateHost } from "./address";
import type { SourceBody } from "./body";
import type { CachedBody, SourceCache } from "./cache";
import type { ResolvedSources } from "./config";
import type { Deadline } from "./deadline";
import { reasonOf, sourceError } from "./errors";
import type { Format, SourceSpec } from "./ref";

const MAX_REDIRECTS = 4;

const ACCEPT: Record<Format, string> = {
  json: "application/json",
  ndjson: "application/x-ndjson, application/json;q=0.5",
  csv: "text/csv",
  parquet: "application/vnd.apache.parquet, application/octet-stream;q=0.5",
};

/** Content types each format accepts (a missing one is accepted; text/html, say, is not). */
const CONTENT_TYPES: Record<Format, RegExp> = {
  json: /^(application\/(json|[\w.+-]+\+json)|text\/(json|plain))$/,
  ndjson: /^(application\/(x-ndjson|ndjson|jsonl|x-jsonlines|jsonlines|json)|text\/plain)$/,
  csv: /^(text\/(csv|plain)|application\/csv)$/,
  parquet: /^application\/(vnd\.apache\.parquet|x-parquet|octet-stream)$/,
};

/** The format a content type names, for a URL without an extension or `#format=`. */
const BY_CONTENT_TYPE: [RegExp, Format][] = [
  [/^application\/(x-ndjson|ndjson|jsonl|x-jsonlines|jsonlines)$/, "ndjson"],
  [/^(application\/(json|[\w.+-]+\+json)|text\/json)$/, "json"],
  [/^(text\/csv|application\/csv)$/, "csv"],
  [/^application\/(vnd\.apache\.parquet|x-parquet)$/, "parquet"],
];

/** Refuse what may not be fetched, before any request: not allowed origins, private addresses. */
export function checkRemote(spec: SourceSpec, config: ResolvedSources): void {
  const url = spec.url!;
  if (!config.allow.has(url.origin))
    throw sourceError(
      "SOURCE_NOT_ALLOWED",
      spec.label,
      `origin ${url.origin} is not allowed (list it in sources({ allow: [...] }))`,
      { origin: url.origin },
    );
  if (!config.allowPrivate && isPrivateHost(url.hostname))
    throw sourceError(
      "SOURCE_NOT_ALLOWED",
      spec.label,
      `${url.hostname} is a private or loopback address (sources({ allowPrivate: true }) to read it)`,
      { origin: url.origin },
    );
}

/**
 * GET a remote source: only the Accept header (and, to revalidate a cached copy, If-None-Match /
 * If-Modified-Since) is sent, never credentials or cookies; redirects are followed by hand and only
 * within the origin; a declared length over the byte limit is refused before the body is read.
 */
export async function fetchRemote(
  spec: SourceSpec,
  config: ResolvedSources,
  cache: SourceCache | undefined,
  deadline: Deadline,
): Promise<{ body: SourceBody; format: Format }> {
  checkRemote(spec, config);
  const url = spec.url!;
  const cached = cache?.get(url.href);
  if (cached && cache!.fresh(cached, Date.now())) {
    cache!.hits++;
    return withFormat(spec, fromCache(spec, cached));
  }
  const headers = new Headers({ accept: spec.format ? ACCEPT[spec.format] : "*/*" });
  if (cached?.etag) headers.set("if-none-match", cached.etag);
  if (cached?.lastModified) headers.set("if-modified-since", cached.lastModified);
  let current = url;
  for (let hop = 0; ; hop++) {
    let response: Response;
    try {
      response = await deadline.race(
        fetch(current.href, {
          method: "GET",
          headers,
          redirect: "manual",
          signal: deadline.controller.signal,
        }),
      );
    } catch (err) {
      if (deadline.expired) throw deadline.error();
      throw sourceError("SOURCE_UNREACHABLE", spec.label, `fetch failed: ${reasonOf(err)}`);
    }
    if (response.status >= 300 && response.status < 400 && response.status !== 304) {
      response.body?.cancel().catch(() => {});
      const location = response.headers.get("location");
      let next: URL | undefined;
      try {
        next = location ? new URL(location, current) : undefined;
      } catch {}
      if (!next)
        throw sourceError(
          "SOURCE_UNREACHABLE",
          spec.label,
          `redirect ${response.status} without a valid Location`,
        );
      if (next.origin !== url.origin)
        throw sourceError(
          "SOURCE_REDIRECT_REFUSED",
          spec.label,
          `redirects to another origin (${next.origin})`,
          {
            location: next.origin,
          },
        );
      if (hop >= MAX_REDIRECTS) throw sourceError("SOURCE_UNREACHABLE", spec.label, "too many redirects");
      current = next;
      continue;
    }
    if (response.status === 304 && cached) {
      response.body?.cancel().catch(() => {});
      cached.checkedAt = Date.now();
      cache!.revalidated++;
      return withFormat(spec, fromCache(spec, cached));
    }
    if (!response.ok || !response.body) {
      response.body?.cancel().catch(() => {});
      throw sourceError("SOURCE_UNREACHABLE", spec.label, `answered HTTP ${response.status}`, {
        status: response.status,
      });
    }
    const length = Number(response.headers.get("content-length") ?? Number.NaN);
    if (length > config.maxBytes) {
      response.body.cancel().catch(() => {});
      throw sourceError("SOURCE_TOO_LARGE", spec.label, `declares ${length} bytes, over ${config.maxBytes}`, {
        maxBytes: config.maxBytes,
      });
    }
    const contentType = mediaType(response.headers.get("content-type"));
    const stream = response.body;
    const etag = response.headers.get("etag");
    const lastModified = response.headers.get("last-modified");
    const body: SourceBody = {
      label: spec.label,
      contentType,
      stream: () => stream,
      keep:
        cache && (etag || lastModified || cache.ttlMs > 0)
          ? (bytes) =>
              cache.set(url.href, { body: bytes, contentType, etag, lastModified, checkedAt: Date.now() })
          : undefined,
      keepLimit: cache?.maxEntryBytes,
    };
    return withFormat(spec, body);
  }
}

function fromCache(spec: SourceSpec, cached: CachedBody): SourceBody {
  return {
    label: spec.label,
    contentType: cached.contentType,
    stream: () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(cached.body);
          controller.close();
        },
      }),
  };
}

function mediaType(header: string | null): string | null {
  const type = header?.split(";")[0].trim().toLowerCase();
  return type ? type : null;
}

/** The format (explicit, by extension, else by content type), and the content type checked against it. */
function withFormat(spec: SourceSpec, body: SourceBody): { body: SourceBody; format: Format } {
  const type = body.contentType;
  let format = spec.format;
  if (!format) {
    format = type ? BY_CONTENT_TYPE.find(([re]) => re.test(type))?.[1] : undefined;
    if (!format) {
      body
        .stream()
        .cancel()
        .catch(() => {});
      throw sourceError(
        "SOURCE_BAD_CONTENT_TYPE",
        spec.label,
        `cannot tell the format from content type ${type ?? "(none)"}: add #format=json|ndjson|csv|parquet`,
        { contentType: type },
      );
    }
  }
  if (type && !CONTENT_TYPES[format].test(type)) {
    body
      .stream()
      .cancel()
      .catch(() => {});
    throw sourceError("SOURCE_BAD_CONTENT_TYPE", spec.label, `content type ${type} is not ${format}`, {
      contentType: type,
      format,
    });
  }
  return { body, format };
}
