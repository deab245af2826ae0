/**
 * The key-value cache behind `cache-lookup-value` / `cache-store-value` / `cache-remove-value`.
 * One interface, so the Redis store (scale-out) plugs in where the in-memory one is now.
 * @module
 */

export interface ValueCache {
  get(key: string): Promise<unknown>;
  /** `ttlSeconds` ≥ 1. */
  set(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface MemoryValueCacheOptions {
  /** Entries kept at most; the least recently used goes first. */
  readonly maxEntries: number;
  /** Longest TTL accepted, in seconds (APIM caps at a day for internal cache; longer is clamped). */
  readonly maxTtlSeconds: number;
  readonly now?: () => number;
}

/** Bounded LRU with per-entry expiry; expired entries are dropped when touched or when evicting. */
export class MemoryValueCache implements ValueCache {
  readonly #entries = new Map<string, { value: unknown; expires: number }>();
  readonly #opts: MemoryValueCacheOptions;
  readonly #now: () => number;

  constructor(opts: MemoryValueCacheOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): Promise<unknown> {
    const e = this.#entries.get(key);
    if (e === undefined) return Promise.resolve(undefined);
    if (e.expires <= this.#now()) {
      this.#entries.delete(key);
      return Promise.resolve(undefined);
    }
    // Refresh recency: Map keeps insertion order, so re-insert at the end.
    this.#entries.delete(key);
    this.#entries.set(key, e);
    return Promise.resolve(e.value);
  }

  set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    const ttl = Math.min(Math.max(1, ttlSeconds), this.#opts.maxTtlSeconds);
    this.#entries.delete(key);
    this.#entries.set(key, { value, expires: this.#now() + ttl * 1000 });
    while (this.#entries.size > this.#opts.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.#entries.delete(key);
    return Promise.resolve();
  }
}
