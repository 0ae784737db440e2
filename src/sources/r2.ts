import { ActorError } from "../errors";
import { globPattern } from "../sql/sources";
import { ArchiveStore, type AsyncBuffer } from "../tiering/r2-store";
import type { SourceBody } from "./body";
import type { ResolvedSources } from "./config";
import type { Deadline } from "./deadline";
import { reasonOf, sourceError } from "./errors";
import type { SourceSpec } from "./ref";

export interface R2File {
  key: string;
  size: number;
}

function isBucket(value: unknown): value is R2Bucket {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as R2Bucket).get === "function" &&
    typeof (value as R2Bucket).list === "function" &&
    typeof (value as R2Bucket).head === "function"
  );
}

/** The binding of `'r2://<binding>/…'`: declared in sources({ buckets }) and bound in the Worker. */
export function bucketOf(spec: SourceSpec, config: ResolvedSources, env: object): R2Bucket {
  const name = spec.binding!;
  if (!config.buckets.has(name))
    throw sourceError(
      "SOURCE_NOT_ALLOWED",
      spec.label,
      `R2 binding ${name} is not listed in sources({ buckets: [...] })`,
      {
        binding: name,
      },
    );
  const bucket = (env as Record<string, unknown>)[name];
  if (!isBucket(bucket))
    throw sourceError("UNKNOWN_BINDING", spec.label, `the Worker has no R2 binding named ${name}`, {
      binding: name,
    });
  return bucket;
}

/** The objects a key or glob names: SOURCE_NO_MATCH when none, QUERY_TOO_LARGE past maxFiles. */
export async function r2Files(
  spec: SourceSpec,
  bucket: R2Bucket,
  config: ResolvedSources,
  deadline: Deadline,
): Promise<R2File[]> {
  const key = spec.key!;
  const star = key.indexOf("*");
  try {
    if (star < 0) {
      const head = await deadline.race(bucket.head(key));
      if (!head) throw sourceError("SOURCE_NO_MATCH", spec.label, `no object ${key}`, { key });
      return [{ key, size: head.size }];
    }
    const store = new ArchiveStore(bucket, spec.binding!, config.timeoutMs);
    const pattern = globPattern(key);
    const files = (await deadline.race(store.list(key.slice(0, star)))).filter((o) => pattern.test(o.key));
    if (files.length === 0)
      throw sourceError("SOURCE_NO_MATCH", spec.label, `no object matches ${key}`, { key });
    if (files.length > config.maxFiles)
      throw new ActorError(
        "QUERY_TOO_LARGE",
        `${spec.label}: matches ${files.length} objects, over ${config.maxFiles}`,
        {
          source: spec.label,
          maxFiles: config.maxFiles,
        },
      );
    return files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  } catch (err) {
    throw unreachable(spec, err, deadline);
  }
}

function labelOf(spec: SourceSpec, file: R2File): string {
  return spec.key === file.key ? spec.label : `${spec.label} (${file.key})`;
}

function checkSize(spec: SourceSpec, file: R2File, config: ResolvedSources): void {
  if (file.size > config.maxBytes)
    throw sourceError(
      "SOURCE_TOO_LARGE",
      labelOf(spec, file),
      `${file.size} bytes, over ${config.maxBytes}`,
      {
        maxBytes: config.maxBytes,
      },
    );
}

/** A Parquet object with random access: small files in one GET, larger by ranged GETs (tiering's store). */
export async function r2Parquet(
  spec: SourceSpec,
  bucket: R2Bucket,
  file: R2File,
  config: ResolvedSources,
  deadline: Deadline,
): Promise<{ label: string; file: AsyncBuffer | ArrayBuffer }> {
  checkSize(spec, file, config);
  try {
    const opened = await deadline.race(
      new ArchiveStore(bucket, spec.binding!, config.timeoutMs).open(file.key, file.size),
    );
    return { label: labelOf(spec, file), file: opened };
  } catch (err) {
    throw unreachable(spec, err, deadline);
  }
}

/** A text object (JSON, NDJSON, CSV), streamed. */
export async function r2Body(
  spec: SourceSpec,
  bucket: R2Bucket,
  file: R2File,
  config: ResolvedSources,
  deadline: Deadline,
): Promise<SourceBody> {
  checkSize(spec, file, config);
  const label = labelOf(spec, file);
  let object: R2ObjectBody | null;
  try {
    object = await deadline.race(bucket.get(file.key));
  } catch (err) {
    throw unreachable(spec, err, deadline);
  }
  if (!object) throw sourceError("SOURCE_NO_MATCH", label, `no object ${file.key}`, { key: file.key });
  const stream = object.body;
  return { label, contentType: object.httpMetadata?.contentType ?? null, stream: () => stream };
}

function unreachable(spec: SourceSpec, err: unknown, deadline: Deadline): unknown {
  if (ActorError.from(err)?.code?.startsWith("SOURCE_") || ActorError.from(err)?.code === "QUERY_TOO_LARGE")
    return err;
  if (deadline.expired) return deadline.error();
  return sourceError("SOURCE_UNREACHABLE", spec.label, `R2 read failed: ${reasonOf(err)}`);
}
