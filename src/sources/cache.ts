/** A fetched body kept for reuse, with what revalidates it. */
export interface CachedBody {
  body: Uint8Array;
  contentType: string | null;
  etag: string | null;
  lastModified: string | null;
  /** When the origin last confirmed it (fetched or answered 304). */
  checkedAt: number;
}

/**
 * The TTL cache of remote sources, per actor instance (in memory: an evicted or restarted actor
 * starts empty). Bounded in bytes; the least recently used entries go first.
 */
export class SourceCache {
  readonly #entries = new Map<string, CachedBody>();
  #bytes = 0;
  hits = 0;
  revalidated = 0;

  constructor(
    readonly ttlMs: number,
    readonly maxBytes: number,
    readonly maxEntryBytes: number,
  ) {}

  get(url: string): CachedBody | undefined {
    const entry = this.#entries.get(url);
    if (!entry) return undefined;
    this.#entries.delete(url);
    this.#entries.set(url, entry);
    return entry;
  }

  fresh(entry: CachedBody, now: number): boolean {
    return now - entry.checkedAt < this.ttlMs;
  }

  set(url: string, entry: CachedBody): void {
    this.delete(url);
    if (entry.body.byteLength > this.maxEntryBytes) return;
    this.#entries.set(url, entry);
    this.#bytes += entry.body.byteLength;
    for (const [key, old] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(key);
      this.#bytes -= old.body.byteLength;
    }
  }

  delete(url: string): void {
    const old = this.#entries.get(url);
    if (!old) return;
    this.#entries.delete(url);
    this.#bytes -= old.body.byteLength;
  }

  stats(): { entries: number; bytes: number; hits: number; revalidated: number } {
    return {
      entries: this.#entries.size,
      bytes: this.#bytes,
      hits: this.hits,
      revalidated: this.revalidated,
    };
  }
}
