// The three measurements run against one target URL: load at fixed
// concurrency (wrk, or autocannon without it), the same at concurrency 1, and streaming
// time-to-first-byte (a sequential undici loop).
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { ensureWrk, runWrk } from './wrk.ts';

export const CHAT_PATH = '/v1/chat/completions';
export const BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });
// Clients ask for usage themselves, so the backend sends the same bytes
// whether or not the gateway in between would have added the option.
export const STREAM_BODY = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'hello' }],
  stream: true,
  stream_options: { include_usage: true },
});

// autocannon ships no types; this is the slice of its API used here.
interface AcOptions {
  url: string;
  method: 'POST';
  connections: number;
  duration: number;
  body: string;
  idReplacement: boolean;
  headers: Record<string, string>;
  timeout: number;
}
interface AcResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  requests: { total: number };
}
type Autocannon = (opts: AcOptions, cb: (err: Error | null, res: AcResult) => void) => EventEmitter;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

// Bounds the latency sample array (≈16 MB) whatever the duration.
const MAX_SAMPLES = 2_000_000;
// A healthy target answers a streaming request in about a millisecond; a
// stalled one must not hold the run for n × the per-request timeout.
const TTFB_BUDGET_MS = 60_000;

export interface LoadResult {
  requests: number;
  durationS: number;
  rps: number;
  errors: number;
  non2xx: number;
  p50Ms: number;
  p99Ms: number;
}

export function headersFor(apiKey: string): Record<string, string> {
  return { 'content-type': 'application/json', 'api-key': apiKey };
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/**
 * One load run at `connections`: wrk (bench/wrk.ts) when it is available, else autocannon with a
 * single worker in this process. Percentiles come
 * from the raw per-response times: autocannon's own histogram has 1 ms
 * buckets, too coarse for the sub-millisecond differences compared here.
 */
export async function load(origin: string, apiKey: string, connections: number, durationS: number, body: string = BODY): Promise<LoadResult> {
  const wrk = loadGenerator() === 'wrk' ? ensureWrk() : null;
  if (wrk !== null) {
    const r = await runWrk(wrk, origin + CHAT_PATH, headersFor(apiKey), body, connections, durationS);
    return { ...r, durationS: r.durationS > 0 ? r.durationS : durationS, rps: r.requests / (r.durationS > 0 ? r.durationS : durationS) };
  }
  return autocannonLoad(origin, apiKey, connections, durationS, body);
}

/** `wrk` (the default; BENCH_LOAD_GENERATOR=autocannon picks autocannon), or autocannon when wrk cannot be had. */
export function loadGenerator(): 'wrk' | 'autocannon' {
  if (process.env.BENCH_LOAD_GENERATOR === 'autocannon') return 'autocannon';
  return ensureWrk() === null ? 'autocannon' : 'wrk';
}

function autocannonLoad(origin: string, apiKey: string, connections: number, durationS: number, body: string): Promise<LoadResult> {
  const samples: number[] = [];
  return new Promise((resolve, reject) => {
    const opts: AcOptions = {
      url: origin + CHAT_PATH,
      method: 'POST',
      connections,
      duration: durationS,
      body,
      // "[<id>]" in the body becomes a new id per request (wrk.ts does the same).
      idReplacement: body.includes('[<id>]'),
      headers: headersFor(apiKey),
      timeout: 10,
    };
    const instance = autocannon(opts, (err, res) => {
      if (err !== null) return reject(err);
      const sorted = Float64Array.from(samples).sort();
      const durationS = res.duration > 0 ? res.duration : opts.duration;
      resolve({
        requests: res.requests.total,
        durationS,
        rps: res.requests.total / durationS,
        errors: res.errors + res.timeouts,
        non2xx: res.non2xx,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
      });
    });
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status >= 200 && status < 300 && samples.length < MAX_SAMPLES) samples.push(ms);
    });
  });
}

export interface TtfbResult {
  n: number;
  p50Ms: number;
  p99Ms: number;
}

/** Sequential streaming requests: time from send to the first body chunk. */
export async function ttfb(origin: string, apiKey: string, n: number, warmup: number): Promise<TtfbResult> {
  const pool = new Pool(origin, { connections: 1, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const times = new Float64Array(n);
  const deadline = performance.now() + TTFB_BUDGET_MS;
  try {
    for (let i = 0; i < warmup + n; i++) {
      if (performance.now() > deadline) throw new Error(`streaming loop exceeded ${TTFB_BUDGET_MS / 1000} s`);
      const t0 = performance.now();
      const res = await pool.request({ method: 'POST', path: CHAT_PATH, headers: headersFor(apiKey), body: STREAM_BODY });
      let first = -1;
      let tail = '';
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        if (first < 0) first = performance.now() - t0;
        tail = (tail + chunk.toString('latin1')).slice(-64);
      }
      if (res.statusCode !== 200 || !tail.includes('[DONE]')) {
        throw new Error(`stream request got ${res.statusCode}, ending ${JSON.stringify(tail)}`);
      }
      if (i >= warmup) times[i - warmup] = first;
    }
  } finally {
    await pool.close();
  }
  times.sort();
  return { n, p50Ms: percentile(times, 50), p99Ms: percentile(times, 99) };
}

/** One plain and one streaming request, so a broken target fails loudly
 *  instead of being measured at the speed of its error page. */
export async function checkTarget(origin: string, apiKey: string): Promise<void> {
  const pool = new Pool(origin, { connections: 1, headersTimeout: 10_000, bodyTimeout: 10_000 });
  try {
    const res = await pool.request({ method: 'POST', path: CHAT_PATH, headers: headersFor(apiKey), body: BODY });
    const text = await res.body.text();
    if (res.statusCode !== 200 || !text.includes('"usage"')) {
      throw new Error(`POST ${CHAT_PATH} got ${res.statusCode}: ${text.slice(0, 300)}`);
    }
  } finally {
    await pool.close();
  }
  await ttfb(origin, apiKey, 1, 0);
}
