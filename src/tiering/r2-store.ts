import { ActorError } from "../errors";

ActorError.defineStatus("ARCHIVE_UNAVAILABLE", 503);
ActorError.defineStatus("ARCHIVE_FILE_MISSING", 500);

/**
 * Failure injection for tests: called around every put (and get, delete). Throwing (or never settling)
 * from `beforePut` plays "R2 refused the write"; throwing from `afterPut` plays "the write landed but
 * its confirmation was lost". Never set in production code.
 */
export interface StoreHooks {
  beforePut?(key: string): void | Promise<void>;
  afterPut?(key: string): void | Promise<void>;
  beforeGet?(key: string): void | Promise<void>;
  beforeDelete?(keys: string[]): void | Promise<void>;
}

/** hyparquet's random-access file: byte length plus (async) slices. */
export interface AsyncBuffer {
  byteLength: number;
  slice(start: number, end?: number): ArrayBuffer | Promise<ArrayBuffer>;
}

export interface StoredObject {
  key: string;
  size: number;
}

/** Files up to this size are read with one GET; larger ones with ranged GETs. */
const WHOLE_FILE_BYTES = 8 << 20;

/**
 * The framework's wrapper of one R2 binding: every read and write of tiering goes through it.
 * A put counts as done only when R2 answered with an object of the size that was sent, within a
 * timeout; anything else is an `ARCHIVE_UNAVAILABLE` error and the caller keeps its rows.
 */
export class ArchiveStore {
  hooks: StoreHooks | undefined;

  constructor(
    readonly bucket: R2Bucket,
    readonly binding: string,
    private readonly putTimeoutMs: number,
  ) {}

  async put(key: string, body: Uint8Array | string, meta?: Record<string, string>): Promise<StoredObject> {
    const size = typeof body === "string" ? new TextEncoder().encode(body).byteLength : body.byteLength;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const written = await Promise.race([
        (async () => {
          await this.hooks?.beforePut?.(key);
          const object = await this.bucket.put(key, body, { customMetadata: meta });
          await this.hooks?.afterPut?.(key);
          return object;
        })(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`timed out after ${this.putTimeoutMs} ms`)),
            this.putTimeoutMs,
          );
        }),
      ]);
      if (!written || written.size !== size)
        throw new Error(`R2 stored ${written?.size ?? "nothing"} bytes of ${size}`);
      return { key, size };
    } catch (err) {
      throw new ActorError("ARCHIVE_UNAVAILABLE", `R2 put of ${key} failed: ${reason(err)}`, { key });
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /** The whole object, or undefined when it does not exist. */
  async get(key: string): Promise<ArrayBuffer | undefined> {
    const object = await this.read(key, () => this.bucket.get(key));
    return object ? object.arrayBuffer() : undefined;
  }

  /** Every object under `prefix`, page by page. */
  async list(prefix: string): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.read(prefix, () => this.bucket.list(cursor ? { prefix, cursor } : { prefix }));
      for (const o of page.objects) out.push({ key: o.key, size: o.size });
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    return out;
  }

  async delete(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      await this.hooks?.beforeDelete?.(batch);
      await this.read(batch[0], () => this.bucket.delete(batch));
    }
  }

  /** A random-access view of an object for hyparquet: small files are fetched once, whole. */
  async open(key: string, size: number): Promise<AsyncBuffer | ArrayBuffer> {
    if (size <= WHOLE_FILE_BYTES) {
      const whole = await this.get(key);
      if (!whole) throw missing(key);
      return whole;
    }
    return {
      byteLength: size,
      slice: async (start: number, end: number = size) => {
        const object = await this.read(key, () =>
          this.bucket.get(key, { range: { offset: start, length: end - start } }),
        );
        if (!object) throw missing(key);
        return object.arrayBuffer();
      },
    };
  }

  private async read<T>(key: string, op: () => Promise<T>): Promise<T> {
    try {
      await this.hooks?.beforeGet?.(key);
      return await op();
    } catch (err) {
      throw new ActorError("ARCHIVE_UNAVAILABLE", `R2 request for ${key} failed: ${reason(err)}`, { key });
    }
  }
}

function missing(key: string): ActorError {
  return new ActorError("ARCHIVE_FILE_MISSING", `archived file ${key} is missing from R2`, { key });
}

function reason(err: unknown): string {
  return ActorError.from(err)?.description ?? (err instanceof Error ? err.message : String(err));
}
