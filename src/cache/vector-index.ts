/**
 * The nearest-neighbour search of one cache partition. A partition is small in the common case
 * (one subscription, one deployment, one parameter class), and there an exact scan of
 * Float32Array dot products is both exact and fastest (no native call, no graph to keep), and
 * synchronous: a hit costs no promise. A partition that grows past `exactLimit` moves to an HNSW
 * graph from `usearch` (N-API, prebuilt, so not tied to one Node ABI), because an exact scan costs
 * O(n × d): at 100,000 × 1,536 it reads 614 MB per lookup, about 60 ms at memory bandwidth,
 * against a 5 ms target. The graph lives in the process's HNSW thread (hnsw-thread.ts): usearch's
 * search and insert are synchronous native calls of several milliseconds each at that size, which
 * on the event loop would hold every request in flight. The graph keeps its vectors as bf16;
 * docs/cache.md has the measurements.
 * @module
 */
import { dot } from './dot.ts';
import { hnswThread } from './hnsw-thread.ts';

export interface Neighbour {
  readonly id: number;
  /** Cosine similarity in [-1, 1]. */
  readonly similarity: number;
}

export interface VectorIndexOptions {
  readonly dimensions: number;
  /** Entries up to which the partition is scanned exactly (above: HNSW). */
  readonly exactLimit?: number;
  /**
   * Called when the HNSW thread died with this partition's graph (hnsw-thread.ts): the index is
   * then empty, and its owner drops the entries it had.
   */
  readonly onLost?: () => void;
}

const DEFAULT_EXACT_LIMIT = 512;

/** Unit-length copy of `v` (cosine similarity is then a dot product); the zero vector stays zero. */
export function unitVector(v: ArrayLike<number>): Float32Array {
  const out = Float32Array.from(v);
  let sum = 0;
  for (let i = 0; i < out.length; i++) sum += (out[i] as number) * (out[i] as number);
  if (sum === 0 || !Number.isFinite(sum)) return out;
  const scale = 1 / Math.sqrt(sum);
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) * scale;
  return out;
}

export class VectorIndex {
  readonly dimensions: number;
  readonly #exactLimit: number;
  readonly #onLost: (() => void) | undefined;
  /** Exact mode: id → unit vector. Emptied when the partition moves to the HNSW thread. */
  readonly #rows = new Map<number, Float32Array>();
  /** HNSW mode: the ids in the thread's graph (the vectors live there only). */
  readonly #ids = new Set<number>();
  /** HNSW mode: the partition's number in the HNSW thread; null while scanned exactly. */
  #part: number | null = null;

  constructor(opts: VectorIndexOptions) {
    this.dimensions = opts.dimensions;
    this.#exactLimit = opts.exactLimit ?? DEFAULT_EXACT_LIMIT;
    this.#onLost = opts.onLost;
  }

  get size(): number {
    return this.#part === null ? this.#rows.size : this.#ids.size;
  }

  /** True while the partition is searched by an exact scan (not yet moved to the HNSW graph). */
  get exact(): boolean {
    return this.#part === null;
  }

  /**
   * `vector` must be unit length (see unitVector) and `dimensions` long. In HNSW mode the insert
   * is posted to the HNSW thread, which inserts one per turn between searches; until it is in the
   * graph the thread finds it by an exact scan of its queue, so it is a hit at once, as in exact
   * mode (a search posted after the add reaches the thread after it).
   */
  add(id: number, vector: Float32Array): void {
    if (vector.length !== this.dimensions) throw new RangeError(`vector has ${vector.length} dimensions, the partition ${this.dimensions}`);
    if (this.#part !== null) {
      this.#ids.add(id);
      hnswThread.add(this.#part, id, vector);
      return;
    }
    this.#rows.set(id, vector);
    if (this.#rows.size > this.#exactLimit) this.#toGraph();
  }

  /** Bulk load (a replica warming up, the benchmark): `vectors` holds `ids.length` unit rows. */
  addMany(ids: readonly number[], vectors: Float32Array): void {
    const d = this.dimensions;
    if (vectors.length !== ids.length * d) throw new RangeError('addMany: vectors must hold one row per id');
    if (this.#part === null) {
      // One bulk build in the thread rather than one insert per row.
      ids.forEach((id, i) => this.#rows.set(id, vectors.subarray(i * d, (i + 1) * d)));
      if (this.#rows.size > this.#exactLimit) this.#toGraph();
      return;
    }
    ids.forEach((id, i) => this.add(id, vectors.subarray(i * d, (i + 1) * d)));
  }

  /** Resolves once every entry is in the thread's graph (a bulk load, a benchmark, a test). */
  async settled(): Promise<void> {
    if (this.#part !== null) await hnswThread.sync();
  }

  remove(id: number): void {
    if (this.#part === null) this.#rows.delete(id);
    else if (this.#ids.delete(id)) hnswThread.remove(this.#part, id);
  }

  /** Frees the partition's graph in the HNSW thread (the partition is gone). */
  close(): void {
    if (this.#part !== null) hnswThread.drop(this.#part);
    this.#part = null;
    this.#rows.clear();
    this.#ids.clear();
  }

  /**
   * The nearest entry, or undefined when the partition is empty. Synchronous while the partition
   * is scanned exactly; in HNSW mode a promise (the search runs in the HNSW thread). A thread
   * that cannot answer (too many searches waiting, the thread died) gives undefined, a miss; a
   * native error in the search rejects (the lookup policy logs it: a miss too).
   */
  nearest(query: Float32Array): Neighbour | undefined | Promise<Neighbour | undefined> {
    if (query.length !== this.dimensions) return undefined;
    const part = this.#part;
    if (part === null) return scan(this.#rows, query);
    // An id removed since the thread answered is not returned (the store would find no entry).
    return hnswThread.search(part, query).then((found) => (found !== undefined && this.#ids.has(found.id) ? found : undefined));
  }

  #toGraph(): void {
    // The thread builds the graph from every row in one bulk add (a few ms for 512 rows, in the
    // thread): a search posted after it is answered from the graph. The rows leave this thread.
    this.#part = hnswThread.open(this.dimensions, this.#rows, () => this.#lost());
    for (const id of this.#rows.keys()) this.#ids.add(id);
    this.#rows.clear();
  }

  /** The HNSW thread died with the graph: the partition is empty now. */
  #lost(): void {
    this.#part = null;
    this.#ids.clear();
    this.#onLost?.();
  }
}

function scan(rows: Map<number, Float32Array>, q: Float32Array): Neighbour | undefined {
  let best = -Infinity;
  let bestId = -1;
  for (const [id, v] of rows) {
    const similarity = dot(v, q);
    if (similarity > best) {
      best = similarity;
      bestId = id;
    }
  }
  return bestId < 0 ? undefined : { id: bestId, similarity: best };
}
