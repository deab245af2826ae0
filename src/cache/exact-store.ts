/**
 * The response cache behind `cache-lookup` / `cache-store` (APIM's exact cache): whole responses
 * under an exact key, bounded by entries and bytes, per-entry TTL, least recently used first.
 * @module
 */

export interface StoredResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** Wall-clock ms since the epoch. */
  readonly expiresAt: number;
}

export interface ExactStoreOptions {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly clock?: () => number;
}

const ENTRY_OVERHEAD_BYTES = 256;

export class ExactResponseStore {
  #opts: ExactStoreOptions;
  readonly #clock: () => number;
  readonly #entries = new Map<string, { response: StoredResponse; bytes: number }>();
  #bytes = 0;
  /** Called after a local store (not after `insert`): the Redis sharing publishes it. */
  onStored: ((key: string, response: StoredResponse) => void) | null = null;

  constructor(opts: ExactStoreOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): StoredResponse | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    this.#entries.delete(key);
    if (e.response.expiresAt <= this.#clock()) {
      this.#bytes -= e.bytes;
      return undefined;
    }
    this.#entries.set(key, e);
    return e.response;
  }

  store(key: string, response: StoredResponse): void {
    if (this.insert(key, response)) this.onStored?.(key, response);
  }

  insert(key: string, response: StoredResponse): boolean {
    if (response.expiresAt <= this.#clock()) return false;
    let bytes = key.length * 2 + response.body.length + ENTRY_OVERHEAD_BYTES;
    for (const name in response.headers) bytes += name.length + (response.headers[name] ?? '').length;
    if (bytes > this.#opts.maxBytes) return false;
    const old = this.#entries.get(key);
    if (old !== undefined) {
      this.#entries.delete(key);
      this.#bytes -= old.bytes;
    }
    this.#entries.set(key, { response, bytes });
    this.#bytes += bytes;
    this.#evict();
    return true;
  }

  /** New bounds (a configuration reload); entries over them are evicted at once, least recently used first. */
  setBounds(maxEntries: number, maxBytes: number): void {
    this.#opts = { ...this.#opts, maxEntries, maxBytes };
    this.#evict();
  }

  #evict(): void {
    while (this.#entries.size > this.#opts.maxEntries || this.#bytes > this.#opts.maxBytes) {
      const first = this.#entries.entries().next().value;
      if (first === undefined) break;
      this.#entries.delete(first[0]);
      this.#bytes -= first[1].bytes;
    }
  }
}
