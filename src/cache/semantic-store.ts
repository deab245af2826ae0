/**
 * The semantic cache's entries: answers keyed by (partition, prompt vector), bounded by entries
 * and bytes, each with its own TTL, the least recently used evicted first. A partition (API +
 * deployment + subscription + vary-by values + the request's answer-shaping parameters) is a hard
 * filter: a lookup only ever searches its own partition's index, so no score can reach across
 * tenants. Replicas share entries through `onStored` / `insert` (see redis-sharing.ts).
 * @module
 */
import { VectorIndex, type Neighbour } from './vector-index.ts';

export interface CachedAnswer {
  /** The answer as a complete `chat.completion` JSON object (a streamed answer is assembled). */
  readonly body: Buffer;
}

export interface StoredEntry {
  readonly partition: string;
  /** Unit length. */
  readonly vector: Float32Array;
  readonly answer: CachedAnswer;
  /** Wall-clock ms since the epoch. */
  readonly expiresAt: number;
}

export interface SemanticHit {
  readonly answer: CachedAnswer;
  readonly similarity: number;
}

export interface SemanticCacheOptions {
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** Partitions up to this size are scanned exactly; larger ones use HNSW (vector-index.ts). */
  readonly exactLimit?: number;
  /** Wall clock (ms since the epoch). */
  readonly clock?: () => number;
}

/** The vector itself lives in the partition's index only (an HNSW partition's graph, in the HNSW thread, keeps its own bf16 copy). */
interface Entry {
  readonly id: number;
  readonly partition: string;
  readonly answer: CachedAnswer;
  readonly expiresAt: number;
  readonly bytes: number;
}

/** Fixed cost of an entry besides its vector and answer (Map slots, objects, index bookkeeping). */
const ENTRY_OVERHEAD_BYTES = 256;
/** Two stored prompts this similar are the same prompt (same text, same model: 1 up to rounding). */
const SAME_PROMPT_SIMILARITY = 0.9999;

export class SemanticCache {
  #opts: SemanticCacheOptions;
  readonly #clock: () => number;
  /** Insertion order is recency order: a hit moves its entry to the end. */
  readonly #entries = new Map<number, Entry>();
  readonly #partitions = new Map<string, VectorIndex>();
  #nextId = 1;
  #bytes = 0;
  /** Called after a local store (not after `insert`): the Redis sharing publishes it. */
  onStored: ((entry: StoredEntry) => void) | null = null;

  constructor(opts: SemanticCacheOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /**
   * The nearest live entry of `partition`, whatever its similarity (the caller applies the
   * threshold). Synchronous for a partition scanned exactly (up to exactLimit entries, the common
   * case); a promise for one searched in the HNSW thread.
   */
  nearest(partition: string, vector: Float32Array): SemanticHit | undefined | Promise<SemanticHit | undefined> {
    const index = this.#partitions.get(partition);
    if (index === undefined || index.dimensions !== vector.length) return undefined;
    const found = index.nearest(vector);
    return found instanceof Promise ? found.then((f) => this.#hit(f)) : this.#hit(found);
  }

  #hit(found: Neighbour | undefined): SemanticHit | undefined {
    if (found === undefined) return undefined;
    const entry = this.#entries.get(found.id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#clock()) {
      this.#remove(entry);
      return undefined;
    }
    this.#entries.delete(entry.id);
    this.#entries.set(entry.id, entry);
    return { answer: entry.answer, similarity: Math.min(1, found.similarity) };
  }

  /** Stores an answer produced here; peers hear about it through `onStored`. */
  store(entry: StoredEntry): void {
    if (this.insert(entry)) this.onStored?.(entry);
  }

  /** Adds an entry (a local store, or one another replica stored). False when it cannot be kept. */
  insert(entry: StoredEntry): boolean {
    if (entry.expiresAt <= this.#clock()) return false;
    const bytes = entry.answer.body.length + entry.vector.length * 4 + entry.partition.length * 2 + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.#opts.maxBytes) return false;
    let index = this.#partitions.get(entry.partition);
    if (index !== undefined && index.dimensions !== entry.vector.length) {
      // The embeddings model changed (another vector size): the old vectors are not comparable.
      this.#dropPartition(entry.partition);
      index = undefined;
    } else if (index?.exact === true && this.#replaceTwin(index, entry)) {
      index = this.#partitions.get(entry.partition); // removing its last entry drops the index
    }
    if (index === undefined) {
      const partition = entry.partition;
      const created: VectorIndex = new VectorIndex({
        dimensions: entry.vector.length,
        ...(this.#opts.exactLimit !== undefined && { exactLimit: this.#opts.exactLimit }),
        onLost: () => this.#lost(partition, created),
      });
      index = created;
      this.#partitions.set(entry.partition, index);
    }
    const id = this.#nextId++;
    const stored: Entry = { id, partition: entry.partition, answer: entry.answer, expiresAt: entry.expiresAt, bytes };
    index.add(id, entry.vector);
    this.#entries.set(id, stored);
    this.#bytes += bytes;
    this.#evict();
    return true;
  }

  /**
   * The same prompt stored again replaces its twin instead of sitting beside it: concurrent misses
   * of one prompt all store their answers, and a replica's copy can arrive after our own. Copies
   * would be scanned by every later lookup of the partition (32 copies of a 1,536-dim vector cost
   * a hit ~25 µs, a third of its CPU) and would take memory for nothing. Only while the partition
   * is scanned exactly, where the check costs what one lookup costs; an HNSW partition is not
   * scanned, so a few copies in it cost little. SAME_PROMPT_SIMILARITY is above any lookup
   * threshold worth using, so which twin is kept does not change what a lookup returns.
   */
  #replaceTwin(index: VectorIndex, entry: StoredEntry): boolean {
    const twin = index.nearest(entry.vector);
    // Only called while the partition is scanned exactly, where nearest is synchronous.
    if (twin === undefined || twin instanceof Promise || twin.similarity < SAME_PROMPT_SIMILARITY) return false;
    const old = this.#entries.get(twin.id);
    if (old === undefined) return false;
    this.#remove(old);
    return true;
  }

  /** New bounds (a configuration reload); entries over them are evicted at once, least recently used first. */
  setBounds(maxEntries: number, maxBytes: number): void {
    this.#opts = { ...this.#opts, maxEntries, maxBytes };
    this.#evict();
  }

  /** Drops every entry (and ends the HNSW thread once no cache of the process has a large partition). */
  clear(): void {
    for (const index of this.#partitions.values()) index.close();
    this.#entries.clear();
    this.#partitions.clear();
    this.#bytes = 0;
  }

  #evict(): void {
    const { maxEntries, maxBytes } = this.#opts;
    while (this.#entries.size > maxEntries || this.#bytes > maxBytes) {
      const oldest = this.#entries.values().next().value;
      if (oldest === undefined) return;
      this.#remove(oldest);
    }
  }

  /**
   * The HNSW thread died with this partition's graph: its entries cannot be found any more, so
   * they go (misses until stored again) rather than taking memory and bytes for nothing.
   */
  #lost(partition: string, index: VectorIndex): void {
    if (this.#partitions.get(partition) === index) this.#dropPartition(partition);
  }

  /** Every entry of the partition goes, and its index with them (closed even when it held none). */
  #dropPartition(partition: string): void {
    for (const e of [...this.#entries.values()]) if (e.partition === partition) this.#remove(e);
    this.#partitions.get(partition)?.close();
    this.#partitions.delete(partition);
  }

  #remove(entry: Entry): void {
    if (!this.#entries.delete(entry.id)) return;
    this.#bytes -= entry.bytes;
    const index = this.#partitions.get(entry.partition);
    if (index === undefined) return;
    index.remove(entry.id);
    if (index.size === 0) {
      index.close();
      this.#partitions.delete(entry.partition);
    }
  }
}
