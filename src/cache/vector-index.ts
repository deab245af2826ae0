/**
 * The nearest-neighbour search of one cache partition. A partition is small in the common case
 * (one subscription, one deployment, one parameter class), and there an exact scan of
 * Float32Array dot products is both exact and fastest (no native call, no graph to keep). A
 * partition that grows past `exactLimit` moves to an HNSW graph from `usearch` (N-API, prebuilt,
 * so not tied to one Node ABI), because an exact scan costs O(n × d): at 100,000 × 1,536 it reads
 * 614 MB per lookup, about 60 ms at memory bandwidth, against a 5 ms target. The HNSW graph keeps
 * its vectors as bf16 (3 KB per 1,536-dim vector): similarities are then exact to about 5e-5,
 * well inside any useful threshold, and on CPUs with AVX-512 BF16 (this project's machines) the
 * distance kernel is 1.5× faster than f16's. docs/cache.md has the measurements.
 * @module
 */
import type usearchModule from 'usearch';
import type { Index as HnswIndex } from 'usearch';
import { performance } from 'node:perf_hooks';
import { lazyModule } from '../util/lazy-module.ts';

/** The native HNSW library loads with the first partition that outgrows the exact scan. */
const usearch = lazyModule<typeof usearchModule>(import.meta.url, 'usearch');

export interface Neighbour {
  readonly id: number;
  /** Cosine similarity in [-1, 1]. */
  readonly similarity: number;
}

export interface VectorIndexOptions {
  readonly dimensions: number;
  /** Entries up to which the partition is scanned exactly (above: HNSW). */
  readonly exactLimit?: number;
}

const DEFAULT_EXACT_LIMIT = 512;
/** Graph inserts per event-loop turn stop once this much time was spent (at least one per turn). */
const DRAIN_BUDGET_MS = 2;

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
  /** Exact mode: id → unit vector. Null once the partition moved to HNSW. */
  #rows: Map<number, Float32Array> | null = new Map();
  #graph: HnswIndex | null = null;
  #graphSize = 0;
  /** HNSW mode: entries waiting for their graph insert, oldest first (see add). */
  readonly #queued = new Map<number, Float32Array>();
  #draining: NodeJS.Immediate | null = null;

  constructor(opts: VectorIndexOptions) {
    this.dimensions = opts.dimensions;
    this.#exactLimit = opts.exactLimit ?? DEFAULT_EXACT_LIMIT;
  }

  get size(): number {
    return this.#rows !== null ? this.#rows.size : this.#graphSize + this.#queued.size;
  }

  /**
   * `vector` must be unit length (see unitVector) and `dimensions` long. In HNSW mode the entry
   * is queued, not inserted: one HNSW insert into a large graph blocks the event loop for several
   * milliseconds (3.7–5 ms at 100,000 × 1,536), which would delay the storing request's answer
   * and, for a burst (a replica catching up on the shared stream), every request for the sum. The
   * queue is drained a few milliseconds per event-loop turn, and a queued entry is found by an
   * exact scan until it is in the graph, so it is a hit at once, as before.
   */
  add(id: number, vector: Float32Array): void {
    if (vector.length !== this.dimensions) throw new RangeError(`vector has ${vector.length} dimensions, the partition ${this.dimensions}`);
    const rows = this.#rows;
    if (rows !== null) {
      rows.set(id, vector);
      if (rows.size > this.#exactLimit) this.#toGraph(rows);
      return;
    }
    this.#queued.set(id, vector);
    // Bounded: past exactLimit queued entries (the exact scan's own bound) the oldest go in now.
    while (this.#queued.size > this.#exactLimit) this.#insertOldest();
    this.#scheduleDrain();
  }

  /** True while the partition is searched by an exact scan (not yet moved to the HNSW graph). */
  get exact(): boolean {
    return this.#rows !== null;
  }

  /** Entries queued for the graph (they are searched by an exact scan meanwhile). */
  get queued(): number {
    return this.#queued.size;
  }

  /** Inserts every queued entry now (a bulk load, a benchmark). */
  flush(): void {
    while (this.#queued.size > 0) this.#insertOldest();
  }

  #insertOldest(): void {
    const first = this.#queued.entries().next().value;
    if (first === undefined) return;
    this.#queued.delete(first[0]);
    (this.#graph as HnswIndex).add(BigInt(first[0]), first[1], 1);
    this.#graphSize++;
  }

  #scheduleDrain(): void {
    if (this.#draining !== null || this.#queued.size === 0) return;
    // unref: queued inserts never keep a stopping process alive.
    this.#draining = setImmediate(() => {
      this.#draining = null;
      const until = performance.now() + DRAIN_BUDGET_MS;
      do this.#insertOldest();
      while (this.#queued.size > 0 && performance.now() < until);
      this.#scheduleDrain();
    }).unref();
  }

  /** Bulk load (a replica warming up, the benchmark): `vectors` holds `ids.length` unit rows. */
  addMany(ids: readonly number[], vectors: Float32Array): void {
    const d = this.dimensions;
    if (vectors.length !== ids.length * d) throw new RangeError('addMany: vectors must hold one row per id');
    if (this.#rows !== null && this.#rows.size + ids.length <= this.#exactLimit) {
      ids.forEach((id, i) => this.add(id, vectors.subarray(i * d, (i + 1) * d)));
      return;
    }
    if (this.#rows !== null) this.#toGraph(this.#rows);
    this.flush();
    // threads 0: usearch uses every core for a bulk build (a single add stays on this thread).
    (this.#graph as HnswIndex).add(BigUint64Array.from(ids, (id) => BigInt(id)), vectors, 0);
    this.#graphSize += ids.length;
  }

  remove(id: number): void {
    if (this.#rows !== null) {
      this.#rows.delete(id);
      return;
    }
    if (this.#queued.delete(id)) return;
    const removed = (this.#graph as HnswIndex).remove(BigInt(id)) as number;
    this.#graphSize -= removed;
  }

  /** The nearest entry, or undefined when the partition is empty. */
  nearest(query: Float32Array): Neighbour | undefined {
    if (query.length !== this.dimensions) return undefined;
    const rows = this.#rows;
    if (rows !== null) return scan(rows, query);
    const queued = this.#queued.size === 0 ? undefined : scan(this.#queued, query);
    if (this.#graphSize === 0) return queued;
    const m = (this.#graph as HnswIndex).search(query, 1, 1);
    const key = m.keys[0];
    const distance = m.distances[0];
    if (key === undefined || distance === undefined || m.keys.length === 0) return queued;
    // usearch's cosine metric reports the distance 1 − similarity.
    const found = { id: Number(key), similarity: 1 - distance };
    return queued !== undefined && queued.similarity > found.similarity ? queued : found;
  }

  #toGraph(rows: Map<number, Float32Array>): void {
    const { Index, MetricKind, ScalarKind } = usearch();
    const graph = new Index({
      dimensions: this.dimensions,
      metric: MetricKind.Cos,
      // bf16 over f16: same 2 bytes per dimension, 1.5× faster search where the CPU has
      // AVX-512 BF16 (30,000 × 1,536: p99 1.73 against 2.57 ms), similarity error ≤ 5e-5
      // against f32 (i8 was faster still but off by up to 0.015, too coarse for a threshold).
      quantization: ScalarKind.BF16,
      // Measured at 100,000 × 1,536 random unit vectors (the worst case) on the 2-core machine:
      // connectivity 16 reaches recall@1 0.95 only past ef 160 (p99 > 5 ms); 24 with ef 96 gives
      // recall 0.962 at p99 4.5 ms (docs/cache.md). 32 needs longer inserts for no gain in both.
      connectivity: 24,
      expansion_add: 128,
      expansion_search: 96,
      multi: false,
    });
    // The rows move to the insert queue (drained a few ms per turn) rather than into the graph at
    // once: building a graph of exactLimit entries in one go would block the loop for tens of ms.
    for (const [id, v] of rows) this.#queued.set(id, v);
    this.#graph = graph;
    this.#graphSize = 0;
    this.#rows = null;
    this.#scheduleDrain();
  }
}

function scan(rows: Map<number, Float32Array>, q: Float32Array): Neighbour | undefined {
  let best = -Infinity;
  let bestId = -1;
  const d = q.length;
  for (const [id, v] of rows) {
    let dot = 0;
    // Four accumulators let the JIT overlap the multiply-adds (about 2× over one running sum).
    let a = 0;
    let b = 0;
    let c = 0;
    let i = 0;
    for (; i + 4 <= d; i += 4) {
      dot += (v[i] as number) * (q[i] as number);
      a += (v[i + 1] as number) * (q[i + 1] as number);
      b += (v[i + 2] as number) * (q[i + 2] as number);
      c += (v[i + 3] as number) * (q[i + 3] as number);
    }
    for (; i < d; i++) dot += (v[i] as number) * (q[i] as number);
    dot += a + b + c;
    if (dot > best) {
      best = dot;
      bestId = id;
    }
  }
  return bestId < 0 ? undefined : { id: bestId, similarity: best };
}
