// `npm run bench:semantic-index`: the semantic cache's vector search at scale, on this machine.
// Builds one partition of N unit vectors of D dimensions (default 100,000 × 1,536: the issue's
// target) in src/cache/vector-index.ts (HNSW from usearch above the exact-scan limit, in the
// HNSW worker thread: the path the gateway uses), then:
// - lookup latency p50/p99 of `await nearest()` (the round trip to the thread and its search) for
//   queries that are a stored vector plus noise (cosine ≈ 0.97 to it: the near-duplicate prompts
//   a cache is for), and how long each lookup holds the event loop (posting it);
// - recall@1 against an exact scan of the same vectors (Float32Array dot products);
// - the exact scan's own p50/p99 at N and at the exact-scan limit (512), which is why large
//   partitions use HNSW;
// - memory per entry (RSS growth over the build / N: the thread's graph, and the bulk load's
//   one-off copy until the thread collects it) and the cost of one insert into the graph (add, then the thread's sync);
// - the event-loop delay while lookups run and while a burst of entries is stored.
// Options: node bench/semantic-index.ts [N] [D] [QUERIES] [random|latent].
// Random unit vectors are the hard case for HNSW (no cluster structure); real embeddings are easier.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import usearch, { type BatchMatches } from 'usearch';
import { VectorIndex } from '../src/cache/vector-index.ts';

const N = Number(process.argv[2] ?? 100_000);
const D = Number(process.argv[3] ?? 1536);
const QUERIES = Number(process.argv[4] ?? 1000);
// `random`: i.i.d. unit vectors, the worst case for graph search (all nearly orthogonal, no
// gradient to follow). `latent`: vectors from a 48-dimensional latent space projected to D
// dimensions plus isotropic noise, closer to real embeddings, which lie near a low-dimensional
// structure (real embeddings were not available offline to measure instead).
const DATA = process.argv[5] === 'latent' ? 'latent' : 'random';
const LATENT = 48;
const EXACT_LIMIT = 512;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296 - 0.5;
  };
}
const r = rng(42);

function normalise(v: Float32Array): Float32Array {
  let sum = 0;
  for (const x of v) sum += x * x;
  const k = 1 / Math.sqrt(sum);
  for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) * k;
  return v;
}

function exactNearest(data: Float32Array, n: number, q: Float32Array): number {
  let best = -Infinity;
  let bestId = -1;
  for (let row = 0; row < n; row++) {
    let dot = 0;
    const off = row * D;
    for (let i = 0; i < D; i++) dot += (data[off + i] as number) * (q[i] as number);
    if (dot > best) {
      best = dot;
      bestId = row;
    }
  }
  return bestId;
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;

/** Roughly normal (sum of six uniforms). */
const gauss = (): number => {
  let u = 0;
  for (let i = 0; i < 6; i++) u += r();
  return u / Math.sqrt(0.5);
};
const projection = new Float32Array(LATENT * D);
if (DATA === 'latent') for (let i = 0; i < projection.length; i++) projection[i] = gauss();

const data = new Float32Array(N * D);
const z = new Float32Array(LATENT);
for (let i = 0; i < N; i++) {
  const row = data.subarray(i * D, (i + 1) * D);
  if (DATA === 'random') {
    for (let j = 0; j < D; j++) row[j] = r();
  } else {
    for (let k = 0; k < LATENT; k++) z[k] = gauss();
    for (let j = 0; j < D; j++) {
      let x = 0;
      for (let k = 0; k < LATENT; k++) x += (z[k] as number) * (projection[k * D + j] as number);
      row[j] = x + gauss() * 0.15 * Math.sqrt(LATENT);
    }
  }
  normalise(row);
}
global.gc?.();
const rss0 = process.memoryUsage().rss;
const index = new VectorIndex({ dimensions: D, exactLimit: EXACT_LIMIT });
let t = performance.now();
index.addMany(Array.from({ length: N }, (_, i) => i), data);
await index.settled();
const buildS = (performance.now() - t) / 1000;
global.gc?.();
const perEntry = (process.memoryUsage().rss - rss0) / N;

const queries: Float32Array[] = [];
const targets: number[] = [];
for (let q = 0; q < QUERIES; q++) {
  const target = Math.floor((r() + 0.5) * N) % N;
  const v = new Float32Array(D);
  for (let j = 0; j < D; j++) v[j] = (data[target * D + j] as number) + r() * 0.02;
  queries.push(normalise(v));
  targets.push(target);
}
// Ground truth: usearch's exact (brute-force, SIMD, every core) search over the same f32
// vectors, one batch for all queries (a JS scan per query would take minutes at 100,000 × 1,536).
const batch = new Float32Array(QUERIES * D);
queries.forEach((q, i) => batch.set(q, i * D));
const truth = usearch.exactSearch(data, batch, D, 1, usearch.MetricKind.Cos, 0) as BatchMatches;
const lat: number[] = [];
const held: number[] = [];
let agree = 0;
let minSim = 1;
const lookupDelay = monitorEventLoopDelay({ resolution: 1 });
lookupDelay.enable();
for (let q = 0; q < QUERIES; q++) {
  const query = queries[q] as Float32Array;
  t = performance.now();
  const pending = index.nearest(query);
  held.push(performance.now() - t);
  const found = await pending;
  lat.push(performance.now() - t);
  if (found !== undefined && BigInt(found.id) === truth.get(q).keys[0]) agree++;
  minSim = Math.min(minSim, found?.similarity ?? 0);
}
lookupDelay.disable();
held.sort((a, b) => a - b);
lat.sort((a, b) => a - b);

const exactLat = (n: number, count: number): number[] => {
  const out: number[] = [];
  for (let q = 0; q < count; q++) {
    t = performance.now();
    exactNearest(data, n, queries[q] as Float32Array);
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
};
const smallIndex = new VectorIndex({ dimensions: D, exactLimit: EXACT_LIMIT });
for (let i = 0; i < EXACT_LIMIT; i++) smallIndex.add(i, data.subarray(i * D, (i + 1) * D));
const small: number[] = [];
for (const q of queries) {
  t = performance.now();
  void smallIndex.nearest(q);
  small.push(performance.now() - t);
}
small.sort((a, b) => a - b);
const big = exactLat(N, 10);

// One graph insert: posted, then the thread's sync (its insert done), timed together; and how
// long add() itself holds the event loop.
const fresh = (): Float32Array => {
  const v = new Float32Array(D);
  for (let j = 0; j < D; j++) v[j] = r();
  return normalise(v);
};
let nextId = N;
const inserts: number[] = [];
const addHeld: number[] = [];
for (let i = 0; i < 200; i++) {
  const v = fresh();
  t = performance.now();
  index.add(nextId++, v);
  addHeld.push(performance.now() - t);
  await index.settled();
  inserts.push(performance.now() - t);
}
inserts.sort((a, b) => a - b);
addHeld.sort((a, b) => a - b);

// Event-loop delay while a burst of BURST entries is stored in one turn (a replica reading a
// batch of the shared stream, or many answers completing together): the thread inserts them;
// each is searchable at once (the thread scans what it has not inserted yet).
const BURST = 200;
async function burst(): Promise<{ maxMs: number; p99Ms: number; totalMs: number; foundAtOnce: number }> {
  const vectors = Array.from({ length: BURST }, fresh);
  const first = nextId;
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await setImmediatePromise();
  const t0 = performance.now();
  for (const v of vectors) index.add(nextId++, v);
  const found = await Promise.all(vectors.map(async (v) => index.nearest(v)));
  const foundAtOnce = found.filter((n, i) => n?.id === first + i).length;
  await index.settled();
  const totalMs = performance.now() - t0;
  await new Promise((resolve) => setTimeout(resolve, 5));
  h.disable();
  return { maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6, totalMs, foundAtOnce };
}
const stored = await burst();
index.close();

const f = (x: number): string => x.toFixed(3);
console.log(`semantic index: ${N} entries × ${D} dims (${DATA} vectors), ${QUERIES} near-duplicate queries (node ${process.version})`);
console.log(`  HNSW (usearch, bf16, M=24, ef_search=96, worker thread) lookup  p50 ${f(pct(lat, 0.5))} ms  p99 ${f(pct(lat, 0.99))} ms   target p99 ≤ 5 ms: ${pct(lat, 0.99) <= 5 ? 'PASS' : 'FAIL'}`);
console.log(`  event loop held per lookup (posting it)      p50 ${f(pct(held, 0.5))} ms  p99 ${f(pct(held, 0.99))} ms;  event-loop delay during the lookups max ${f(lookupDelay.max / 1e6)} ms`);
console.log(`  recall@1 vs exact scan                       ${(agree / QUERIES).toFixed(4)}          target ≥ 0.95: ${agree / QUERIES >= 0.95 ? 'PASS' : 'FAIL'}  (lowest similarity found ${minSim.toFixed(4)})`);
console.log(`  memory per entry (RSS growth / N)            ${(perEntry / 1024).toFixed(2)} KiB (the thread's bf16 graph, plus whatever of the bulk load's one-off copy the thread has not collected; the answer's own bytes come on top)`);
console.log(`  bulk build                                    ${buildS.toFixed(1)} s;  one insert (in the thread, to its sync) p50 ${f(pct(inserts, 0.5))} ms  p99 ${f(pct(inserts, 0.99))} ms;  event loop held by add() p99 ${f(pct(addHeld, 0.99))} ms`);
console.log(`  burst of ${BURST} stores: event-loop delay max ${f(stored.maxMs)} ms  p99 ${f(stored.p99Ms)} ms; all in the graph after ${f(stored.totalMs)} ms; found at once ${stored.foundAtOnce}/${BURST}`);
console.log(`  exact scan (JS dot products) at ${EXACT_LIMIT}         p50 ${f(pct(small, 0.5))} ms  p99 ${f(pct(small, 0.99))} ms   (partitions up to ${EXACT_LIMIT} entries)`);
console.log(`  exact scan at ${N}                          p50 ${f(pct(big, 0.5))} ms  p99 ${f(pct(big, 0.99))} ms   (why larger partitions use HNSW)`);

// `npm run bench -- --semantic-index` runs this file as a child and reads its figures from here.
const jsonOut = process.env['BENCH_INDEX_JSON'];
if (jsonOut !== undefined && jsonOut !== '') {
  const { writeFileSync } = await import('node:fs');
  const figures = { entries: N, dimensions: D, data: DATA, queries: QUERIES, p50Ms: pct(lat, 0.5), p99Ms: pct(lat, 0.99), recall: agree / QUERIES, bytesPerEntry: perEntry, insertP50Ms: pct(inserts, 0.5) };
  writeFileSync(jsonOut, JSON.stringify(figures) + '\n');
}
