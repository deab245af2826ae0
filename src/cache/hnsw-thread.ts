/**
 * The main-thread side of the HNSW thread (hnsw-worker.ts): one worker per process owns every
 * HNSW graph, keyed by partition number; this module posts it inserts, removals and searches and
 * matches the answers by request id. Vectors are copied (structured clone), not transferred: the
 * partition keeps its own f32 copy, from which a graph is rebuilt if the worker dies.
 *
 * The worker dying (a native crash, a test's terminate): a new one starts at once, every open
 * partition's graph is rebuilt from the rows the main thread holds (one bulk add each), and the
 * searches that were waiting are asked again after the rebuild, so they are answered (late, not
 * wrong). A worker that dies three times without answering anything is not restarted for
 * RESTART_PAUSE_MS: its searches, and those asked meanwhile, are misses.
 *
 * The worker is unref'd while nothing waits on it (an idle cache never keeps a stopping process
 * alive) and ended once the last HNSW partition closes (SemanticCache.clear, gateway shutdown).
 * @module
 */
import { Worker } from 'node:worker_threads';
import { siblingModule } from '../util/lazy-module.ts';
import { workerExecArgv } from '../util/worker-exec-argv.ts';
import type { HnswReply, HnswRequest } from './hnsw-worker.ts';

/** What the thread needs of a partition: its rows, to build (or rebuild) its graph. */
export interface HnswPartition {
  readonly dimensions: number;
  /** Every row of the partition (unit vectors). */
  readonly rows: ReadonlyMap<number, Float32Array>;
}

export interface HnswMatch {
  readonly id: number;
  readonly similarity: number;
}

/** Searches waiting for the worker past this many are misses (a stalled worker must not pile up requests). */
const MAX_PENDING_SEARCHES = 4096;
const RESTART_PAUSE_MS = 5000;
const MAX_SILENT_DEATHS = 3;

interface PendingSearch {
  readonly part: number;
  readonly vector: Float32Array;
  readonly resolve: (m: HnswMatch | undefined) => void;
  readonly reject: (err: Error) => void;
}

class HnswThread {
  #worker: Worker | null = null;
  readonly #parts = new Map<number, HnswPartition>();
  readonly #searches = new Map<number, PendingSearch>();
  readonly #syncs = new Map<number, () => void>();
  #nextPart = 1;
  #nextReq = 1;
  /** Deaths since the last answer; at MAX_SILENT_DEATHS restarts pause until #pausedUntil. */
  #silentDeaths = 0;
  #pausedUntil = 0;
  /** Workers started so far (tests check a restart happened). */
  starts = 0;

  open(partition: HnswPartition): number {
    const part = this.#nextPart++;
    const running = this.#worker;
    this.#parts.set(part, partition);
    // A worker started now opens every partition itself (#started).
    if (running !== null) this.#postOpen(running, part, partition);
    else this.#started();
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
      this.#searches.set(req, { part, vector, resolve, reject });
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
    for (const s of this.#searches.values()) s.resolve(undefined);
    this.#searches.clear();
    for (const done of this.#syncs.values()) done();
    this.#syncs.clear();
    await worker.terminate();
  }

  /** Test hook: the worker dies as a crash would end it (it is restarted and rebuilt). */
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
    if (this.#parts.size === 0 || Date.now() < this.#pausedUntil) return null;
    const worker = new Worker(new URL(siblingModule(import.meta.url, './hnsw-worker.ts'), import.meta.url), { execArgv: workerExecArgv() });
    this.starts++;
    worker.unref();
    this.#worker = worker;
    worker.on('message', (m: HnswReply) => this.#reply(m));
    // The 'exit' that follows does the recovery; without a listener the error would be thrown.
    worker.on('error', () => undefined);
    worker.on('exit', () => this.#exited(worker));
    // A new worker has no graphs: every open partition is rebuilt from its rows first.
    for (const [part, partition] of this.#parts) this.#postOpen(worker, part, partition);
    return worker;
  }

  #postOpen(worker: Worker, part: number, partition: HnswPartition): void {
    const keys = [...partition.rows.keys()];
    const d = partition.dimensions;
    const vectors = new Float32Array(keys.length * d);
    keys.forEach((k, i) => vectors.set(partition.rows.get(k) as Float32Array, i * d));
    worker.postMessage({ op: 'open', part, dimensions: d, keys, vectors } satisfies HnswRequest, [vectors.buffer]);
  }

  #reply(m: HnswReply): void {
    this.#silentDeaths = 0;
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
    if (++this.#silentDeaths >= MAX_SILENT_DEATHS) {
      this.#silentDeaths = 0;
      this.#pausedUntil = Date.now() + RESTART_PAUSE_MS;
    }
    const next = this.#started();
    for (const [req, s] of this.#searches) {
      if (next === null) {
        s.resolve(undefined);
        this.#searches.delete(req);
      } else {
        next.ref();
        next.postMessage({ op: 'search', part: s.part, req, vector: s.vector } satisfies HnswRequest);
      }
    }
    for (const [req, done] of this.#syncs) {
      if (next === null) {
        done();
        this.#syncs.delete(req);
      } else next.postMessage({ op: 'sync', req } satisfies HnswRequest);
    }
  }
}

/** The process's one HNSW thread. */
export const hnswThread = new HnswThread();
