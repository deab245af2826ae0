/**
 * The main-thread side of the HNSW thread (hnsw-worker.ts): one worker per process owns every
 * HNSW graph, keyed by partition number; this module posts it inserts, removals and searches and
 * matches the answers by request id. A partition's rows are sent once, when it leaves the exact
 * scan; after that its vectors live in the thread's graph only (bf16, as before the thread), so
 * the main thread holds no copy.
 *
 * The worker dying (an exception or out-of-memory in the thread, a test's terminate): its graphs
 * are gone, so every HNSW partition is lost. Each one's owner hears it (`onLost`: the semantic
 * cache drops that partition's entries, which are then misses until stored again), the searches
 * that were waiting are misses, and the next partition to leave the exact scan starts a new
 * worker. A cache losing entries is a cache missing; keeping an f32 copy of every vector to
 * rebuild the graphs would triple the memory per entry (3.3 → 9.7 KiB at 1,536 dimensions).
 *
 * The worker is unref'd while nothing waits on it (an idle cache never keeps a stopping process
 * alive) and ended once the last HNSW partition closes (SemanticCache.clear, gateway shutdown).
 * @module
 */
import type { Worker } from 'node:worker_threads';
import { startSiblingWorker } from '../util/sibling-worker.ts';
import type { HnswReply, HnswRequest } from './hnsw-worker.ts';

export interface HnswMatch {
  readonly id: number;
  readonly similarity: number;
}

/** Searches waiting for the worker past this many are misses (a stalled worker must not pile up requests). */
const MAX_PENDING_SEARCHES = 4096;

interface PendingSearch {
  readonly part: number;
  readonly resolve: (m: HnswMatch | undefined) => void;
  readonly reject: (err: Error) => void;
}

class HnswThread {
  #worker: Worker | null = null;
  /** Open partitions → what to call when the worker dies with their graphs. */
  readonly #parts = new Map<number, () => void>();
  readonly #searches = new Map<number, PendingSearch>();
  readonly #syncs = new Map<number, () => void>();
  #nextPart = 1;
  #nextReq = 1;
  /** Workers started so far (tests check a restart happened). */
  starts = 0;

  /**
   * A partition's graph, built in the thread from `rows` (unit vectors, `dimensions` long) in one
   * bulk add. `onLost` is called if the worker dies: the graph is gone.
   */
  open(dimensions: number, rows: ReadonlyMap<number, Float32Array>, onLost: () => void): number {
    const part = this.#nextPart++;
    this.#parts.set(part, onLost);
    const worker = this.#started() as Worker;
    const keys = [...rows.keys()];
    const vectors = new Float32Array(keys.length * dimensions);
    keys.forEach((k, i) => vectors.set(rows.get(k) as Float32Array, i * dimensions));
    worker.postMessage({ op: 'open', part, dimensions, keys, vectors } satisfies HnswRequest, [vectors.buffer]);
    return part;
  }

  add(part: number, key: number, vector: Float32Array): void {
    // A view into a larger buffer would be cloned with all of that buffer.
    this.#post({ op: 'add', part, key, vector: vector.byteLength === vector.buffer.byteLength ? vector : vector.slice() });
  }

  remove(part: number, key: number): void {
    this.#post({ op: 'remove', part, key });
  }

  drop(part: number): void {
    if (!this.#parts.delete(part)) return;
    this.#post({ op: 'drop', part });
    for (const [req, s] of this.#searches) {
      if (s.part !== part) continue;
      this.#searches.delete(req);
      s.resolve(undefined);
    }
    // The last graph gone: end the thread (it holds nothing worth its memory).
    if (this.#parts.size === 0) void this.close();
  }

  search(part: number, vector: Float32Array): Promise<HnswMatch | undefined> {
    if (this.#searches.size >= MAX_PENDING_SEARCHES) return Promise.resolve(undefined);
    const worker = this.#started();
    if (worker === null) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const req = this.#nextReq++;
      this.#searches.set(req, { part, resolve, reject });
      worker.ref();
      worker.postMessage({ op: 'search', part, req, vector } satisfies HnswRequest);
    });
  }

  /** Resolves once every insert posted so far is in its graph (a bulk load, a benchmark, a test). */
  sync(): Promise<void> {
    const worker = this.#started();
    if (worker === null) return Promise.resolve();
    return new Promise((resolve) => {
      const req = this.#nextReq++;
      this.#syncs.set(req, resolve);
      worker.ref();
      worker.postMessage({ op: 'sync', req } satisfies HnswRequest);
    });
  }

  /** Ends the worker; the next use starts another. */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (worker === null) return;
    this.#worker = null;
    this.#settlePending();
    await worker.terminate();
  }

  /** Test hook: the worker dies as a crash would end it (its partitions are lost). */
  async killForTests(): Promise<void> {
    await this.#worker?.terminate();
  }

  get running(): boolean {
    return this.#worker !== null;
  }

  #post(m: HnswRequest): void {
    this.#started()?.postMessage(m);
  }

  #started(): Worker | null {
    if (this.#worker !== null) return this.#worker;
    if (this.#parts.size === 0) return null;
    const worker = startSiblingWorker(import.meta.url, './hnsw-worker.ts');
    this.starts++;
    worker.unref();
    this.#worker = worker;
    worker.on('message', (m: HnswReply) => this.#reply(m));
    // The 'exit' that follows says what was lost; without a listener the error would be thrown.
    worker.on('error', () => undefined);
    worker.on('exit', () => this.#exited(worker));
    return worker;
  }

  #reply(m: HnswReply): void {
    if (m.op === 'synced') {
      this.#syncs.get(m.req)?.();
      this.#syncs.delete(m.req);
    } else {
      const s = this.#searches.get(m.req);
      this.#searches.delete(m.req);
      if (m.error !== undefined) s?.reject(new Error(`HNSW search failed: ${m.error}`));
      else s?.resolve(m.key === null ? undefined : { id: m.key, similarity: m.similarity });
    }
    if (this.#searches.size === 0 && this.#syncs.size === 0) this.#worker?.unref();
  }

  #exited(worker: Worker): void {
    if (this.#worker !== worker) return; // closed on purpose
    this.#worker = null;
    const lost = [...this.#parts.values()];
    this.#parts.clear();
    this.#settlePending();
    for (const onLost of lost) onLost();
  }

  /** Without a worker nothing will answer: waiting searches are misses, waiting syncs done. */
  #settlePending(): void {
    for (const s of this.#searches.values()) s.resolve(undefined);
    this.#searches.clear();
    for (const done of this.#syncs.values()) done();
    this.#syncs.clear();
  }
}

/** The process's one HNSW thread. */
export const hnswThread = new HnswThread();
