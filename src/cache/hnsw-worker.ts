/**
 * The semantic cache's HNSW thread: every HNSW graph of the process (one per large partition),
 * so that usearch's synchronous `search` (2.5 ms p50 at 100,000 × 1,536) and `add` (3.7–5 ms)
 * never hold the gateway's event loop. hnsw-thread.ts is the main-thread side.
 *
 * Messages in (HnswRequest), handled in the order they come: `open` builds a partition's graph
 * from its rows in one bulk add (a partition leaving the exact scan); `add` queues one insert; `remove` and `search` are handled at once; `drop`
 * forgets a partition; `sync` answers once every queued insert is in. Single inserts are drained
 * one per event-loop turn, so a search waits for at most one insert, not for a burst; a search
 * also scans the queued entries of its partition exactly, so an entry is found from the moment
 * it was posted (messages arrive in order: a search posted after an add sees it). The queue is
 * bounded (QUEUE_LIMIT, the exact scan's own bound): past it the oldest go into their graph at
 * once. Out (HnswReply): `found`, `synced`.
 * @module
 */
import { parentPort } from 'node:worker_threads';
import usearch, { type Index as HnswIndex } from 'usearch';
import { dot } from './dot.ts';

export type HnswRequest =
  | { readonly op: 'open'; readonly part: number; readonly dimensions: number; readonly keys: readonly number[]; readonly vectors: Float32Array }
  | { readonly op: 'add'; readonly part: number; readonly key: number; readonly vector: Float32Array }
  | { readonly op: 'remove'; readonly part: number; readonly key: number }
  | { readonly op: 'search'; readonly part: number; readonly req: number; readonly vector: Float32Array }
  | { readonly op: 'drop'; readonly part: number }
  | { readonly op: 'sync'; readonly req: number };

export type HnswReply =
  | { readonly op: 'found'; readonly req: number; readonly key: number | null; readonly similarity: number; readonly error?: string }
  | { readonly op: 'synced'; readonly req: number };

const port = parentPort;
if (port === null) throw new Error('hnsw-worker.ts runs as a worker thread');

const graphs = new Map<number, HnswIndex>();
/** Inserts not yet in their graph, oldest first, keyed `part:key`. */
const queue = new Map<string, { part: number; key: number; vector: Float32Array }>();
const syncs: number[] = [];
/** Queued inserts at most: a search scans its partition's share of them (≤ 512 × 1,536: ~0.4 ms). */
const QUEUE_LIMIT = 512;
let draining = false;

function newGraph(dimensions: number): HnswIndex {
  return new usearch.Index({
    dimensions,
    metric: usearch.MetricKind.Cos,
    // bf16 over f16: same 2 bytes per dimension, 1.5× faster search where the CPU has
    // AVX-512 BF16 (30,000 × 1,536: p99 1.73 against 2.57 ms), similarity error ≤ 5e-5
    // against f32 (i8 was faster still but off by up to 0.015, too coarse for a threshold).
    quantization: usearch.ScalarKind.BF16,
    // Measured at 100,000 × 1,536 random unit vectors (the worst case) on the 2-core machine:
    // connectivity 16 reaches recall@1 0.95 only past ef 160 (p99 > 5 ms); 24 with ef 96 gives
    // recall 0.962 at p99 4.5 ms (docs/cache.md). 32 needs longer inserts for no gain in both.
    connectivity: 24,
    expansion_add: 128,
    expansion_search: 96,
    multi: false,
  });
}

function reply(m: HnswReply): void {
  (port as NonNullable<typeof port>).postMessage(m);
}

function insertOldest(): void {
  const first = queue.entries().next().value;
  if (first === undefined) return;
  const [slot, { part, key, vector }] = first;
  queue.delete(slot);
  graphs.get(part)?.add(BigInt(key), vector, 1);
}

function drain(): void {
  draining = false;
  insertOldest();
  if (queue.size > 0) schedule();
  else for (const req of syncs.splice(0)) reply({ op: 'synced', req });
}

/** setImmediate, not a loop: the messages that came meanwhile (searches) are handled between inserts. */
function schedule(): void {
  if (draining) return;
  draining = true;
  setImmediate(drain);
}

/** The graph's best match and the queued entries' (exact scan), the more similar of the two. */
function nearest(part: number, q: Float32Array): { key: number; similarity: number } | undefined {
  let best: { key: number; similarity: number } | undefined;
  const graph = graphs.get(part);
  if (graph !== undefined && graph.size() > 0) {
    const m = graph.search(q, 1, 1);
    const key = m.keys[0];
    const distance = m.distances[0];
    // usearch's cosine metric reports the distance 1 − similarity.
    if (key !== undefined && distance !== undefined && m.keys.length > 0) best = { key: Number(key), similarity: 1 - distance };
  }
  for (const queued of queue.values()) {
    if (queued.part !== part) continue;
    const similarity = dot(queued.vector, q);
    if (best === undefined || similarity > best.similarity) best = { key: queued.key, similarity };
  }
  return best;
}

port.on('message', (m: HnswRequest) => {
  switch (m.op) {
    case 'open': {
      const graph = newGraph(m.dimensions);
      // threads 0: a bulk build uses every core (the benchmark's load; 513 rows otherwise).
      if (m.keys.length > 0) graph.add(BigUint64Array.from(m.keys, (k) => BigInt(k)), m.vectors, 0);
      graphs.set(m.part, graph);
      return;
    }
    case 'add':
      queue.set(`${m.part}:${m.key}`, { part: m.part, key: m.key, vector: m.vector });
      while (queue.size > QUEUE_LIMIT) insertOldest();
      schedule();
      return;
    case 'remove':
      if (!queue.delete(`${m.part}:${m.key}`)) graphs.get(m.part)?.remove(BigInt(m.key));
      return;
    case 'search': {
      try {
        const found = nearest(m.part, m.vector);
        return reply({ op: 'found', req: m.req, key: found?.key ?? null, similarity: found?.similarity ?? 0 });
      } catch (err) {
        return reply({ op: 'found', req: m.req, key: null, similarity: 0, error: (err as Error).message });
      }
    }
    case 'drop':
      graphs.delete(m.part);
      for (const [slot, q] of queue) if (q.part === m.part) queue.delete(slot);
      return;
    case 'sync':
      if (queue.size === 0) reply({ op: 'synced', req: m.req });
      else syncs.push(m.req);
      return;
  }
});
