// Starts the real gateway (`node bin/tollgate.js start`, as users run it) with auth and usage
// extraction on, configured only through its documented config file; the
// `limits` and `redis` targets add a token-limit policy and a state store;
// `pool` sends through a backend pool of three members with circuit breakers.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { HEAP_FLAGS } from '../bin/node-flags.js';
import { ensureBuild } from '../bin/build.js';
import { startChild } from './children.ts';
import type { Child } from './children.ts';

export const BENCH_KEY = 'tg-bench-key-0123456789';
const READY_TIMEOUT_MS = 20_000;

/** `BENCH_PORTS=lo-hi` keeps the bench's listeners in that range (several people benchmarking on
 *  one machine, each with their own ports); without it the OS picks. */
const PORT_RANGE = /^(\d+)-(\d+)$/.exec(process.env['BENCH_PORTS'] ?? '');
let nextPort = PORT_RANGE === null ? 0 : Number(PORT_RANGE[1]);

/** A free loopback port: the next free one of `BENCH_PORTS`, else one the OS picks (it could be
 *  taken again before use, which on a benchmark machine is unlikely enough). */
export async function freePort(): Promise<number> {
  if (PORT_RANGE === null) return listenOnce(0);
  for (; nextPort <= Number(PORT_RANGE[2]); nextPort++) {
    const port = await listenOnce(nextPort).catch(() => null);
    if (port !== null) {
      nextPort++;
      return port;
    }
  }
  throw new Error(`no free port left in BENCH_PORTS=${process.env['BENCH_PORTS']}`);
}

function listenOnce(want: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(want, '127.0.0.1', () => {
      const addr = srv.address();
      const port = addr !== null && typeof addr === 'object' ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** The token-limit policy of the `limits` and `redis` targets: limits so high
 *  that nothing is refused, so every request is reserved and settled. */
export const LIMIT_POLICY =
  '<policies><inbound><base /><llm-token-limit tokens-per-minute="1000000000" token-quota="1000000000000" token-quota-period="Monthly" counter-key="@(context.Subscription.Id)" estimate-prompt-tokens="true" remaining-tokens-header-name="x-tokens-remaining" /></inbound></policies>';

/** The semantic cache targets: `cache-hit` looks up and stores (every request after the first is
 *  a hit), `cache-miss` only looks up (nothing is ever stored, so every request is a miss: one
 *  embeddings call, then the forward; the prompt memo is off for it), `cache-lookup` is the same
 *  miss with the memo on (the prompt's vector is remembered after the first request), so that
 *  what it adds over `tollgate` is the lookup's own work, the round trip measured apart. The
 *  embeddings backend is the fixed backend, a separate process, so its own work is never in the
 *  gateway's CPU. */
const CACHE_LOOKUP = '<llm-semantic-cache-lookup score-threshold="0.95" embeddings-backend-id="embeddings" embeddings-backend-auth="system-assigned" />';
export const CACHE_POLICY = {
  hit: `<policies><inbound><base />${CACHE_LOOKUP}</inbound><outbound><base /><llm-semantic-cache-store duration="3600" /></outbound></policies>`,
  miss: `<policies><inbound><base />${CACHE_LOOKUP}</inbound></policies>`,
} as const;

/** Pattern 5's token metric with two expression dimensions, alone: with `ledger`, issue 14's usage path. */
export const METRIC_POLICY =
  '<policies><inbound><base /><azure-openai-emit-token-metric namespace="ai-gateway"><dimension name="Tenant" value="@(context.Subscription.Id)" /><dimension name="API" value="@(context.Api.Name)" /></azure-openai-emit-token-metric></inbound></policies>';

/** The metering target's policy: Pattern 5's token metric and a log-to-eventhub with the seed's JObject message. */
export const METERING_POLICY =
  '<policies><inbound><base /><azure-openai-emit-token-metric namespace="ai-gateway"><dimension name="Tenant" value="@(context.Subscription.Id)" /><dimension name="API" value="@(context.Api.Name)" /></azure-openai-emit-token-metric></inbound>' +
  '<outbound><base /><log-to-eventhub logger-id="usage">@(new JObject(new JProperty("subscriptionId", context.Subscription.Id), new JProperty("totalTokens", context.Response.Headers.GetValueOrDefault("x-ms-total-tokens", "0"))).ToString())</log-to-eventhub></outbound></policies>';

export interface Variant {
  /** METERING_POLICY on the API, its file logger writing under this directory. */
  meteringDir?: string;
  /** The semantic cache policy (CACHE_POLICY) on the API, with an embeddings backend on the fixed backend. */
  cache?: 'hit' | 'miss' | 'lookup';
  /** Adds LIMIT_POLICY on the API. */
  limits?: boolean;
  /** `state: { store: redis, url }` instead of the default memory store. */
  redisUrl?: string;
  /** The API's backend is a pool of three members (the same backend, three connection pools), each with a circuit breaker. */
  pool?: boolean;
  /** The usage ledger on SQLite (a file beside the temporary config file). */
  ledger?: boolean;
  /** Any other API policy document (wins over `limits` and `cache`). */
  policy?: string;
  /** More top-level config sections, as YAML. */
  extraYaml?: string;
  /** More Node flags for the gateway process (e.g. `--cpu-prof`). */
  nodeFlags?: readonly string[];
}

const POOL_BACKENDS = `  fixed-a: { url: "http://127.0.0.1:PORT", circuitBreaker: BREAKER }
  fixed-b: { url: "http://127.0.0.1:PORT", circuitBreaker: BREAKER }
  fixed-c: { url: "http://127.0.0.1:PORT", circuitBreaker: BREAKER }
  fixed-pool:
    type: Pool
    pool: { services: [{ id: fixed-a, priority: 1, weight: 1 }, { id: fixed-b, priority: 1, weight: 2 }, { id: fixed-c, priority: 2, weight: 1 }] }
`.replaceAll('BREAKER', '{ rules: [{ failureCondition: { count: 5, interval: PT1M, statusCodeRanges: [{ min: 429, max: 429 }, { min: 500, max: 599 }] }, tripDuration: PT1M, acceptRetryAfter: true }] }');

function configYaml(port: number, adminPort: number, backendPort: number, v: Variant): string {
  const policy = v.policy ?? (v.limits ? LIMIT_POLICY : v.cache !== undefined ? CACHE_POLICY[v.cache === 'hit' ? 'hit' : 'miss'] : v.meteringDir !== undefined ? METERING_POLICY : undefined);
  const api =
    policy !== undefined
      ? `  openai:
    path: ""
    type: openai
    backend: fixed
    policies: |
      ${policy}`
      : `  openai: { path: "", type: openai, backend: ${v.pool === true ? 'fixed-pool' : 'fixed'} }`;
  const embeddings = v.cache === undefined ? '' : `  embeddings: { url: "http://127.0.0.1:${backendPort}/openai/deployments/text-embedding-3-small/embeddings" }\n`;
  const state = v.redisUrl === undefined ? '' : `state: { store: redis, url: "${v.redisUrl}" }\n`;
  // The miss target sends one prompt over and over: without the memo each request embeds it
  // again, as a new prompt would (the cost a miss really has).
  const cacheSection = v.cache === 'miss' ? 'cache: { responses: { embeddingsMemo: 0 } }\n' : '';
  const loggers = v.meteringDir === undefined ? '' : `loggers:\n  usage: { type: file, path: "${join(v.meteringDir, 'usage.jsonl')}", maxBytes: 10485760, maxFiles: 1 }\n`;
  return `gateway: { listen: 127.0.0.1:${port} }
admin:   { listen: 127.0.0.1:${adminPort} }
namedValues:
  bench-key: { value: "${BENCH_KEY}", secret: true }
backends:
  fixed: { url: "http://127.0.0.1:${backendPort}" }
${embeddings}${v.pool === true ? POOL_BACKENDS.replaceAll('PORT', String(backendPort)) : ''}apis:
${api}
products:
  bench: { apis: [openai] }
subscriptions:
  bench: { product: bench, keys: ["{{bench-key}}"] }
${state}${cacheSection}${v.ledger === true ? 'ledger: { store: sqlite, path: ledger.sqlite }\n' : ''}${loggers}${v.extraYaml ?? ''}`;
}

async function isReady(url: string): Promise<boolean> {
  try {
    const res = await request(url, { headersTimeout: 1000, bodyTimeout: 1000 });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  }
}

export interface Tollgate {
  child: Child;
  port: number;
  /** Origin of the admin listener (`/ready`, `/metrics`). */
  admin: string;
  /** The temporary directory of its config file (and of a SQLite ledger). */
  dir: string;
  cleanup(): Promise<void>;
}

export async function startTollgate(repoRoot: string, backendPort: number, cpuList?: string, variant: Variant = {}, name = 'tollgate'): Promise<Tollgate> {
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-bench-'));
  const cleanup = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const [port, adminPort] = [await freePort(), await freePort()];
  const config = join(dir, 'tollgate.yaml');
  await writeFile(config, configYaml(port, adminPort, backendPort, variant));
  // The first start after a source change compiles src/ (bin/build.js); done here, before the
  // child's readiness timeout starts, and once for all the gateways a run starts.
  ensureBuild(repoRoot);
  const child = startChild(name, [...HEAP_FLAGS, ...(variant.nodeFlags ?? []), 'bin/tollgate.js', 'start', '--config', config], repoRoot, cpuList);

  let exited: string | undefined;
  void child.exited.then((why) => (exited = why));
  const admin = `http://127.0.0.1:${adminPort}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline && exited === undefined) {
    if (await isReady(`${admin}/ready`)) return { child, port, admin, dir, cleanup };
    await sleep(100);
  }
  child.proc.kill('SIGKILL');
  await cleanup();
  const why = exited === undefined ? `not ready within ${READY_TIMEOUT_MS / 1000} s` : `exited (${exited})`;
  const output = child.tail();
  throw new Error(`Tollgate ${why}${firstError(output)}; its output:\n${output || '(none)'}`);
}

/** The gateway's own reason, for the one-line summary under the table: the
 *  message of its last error-level log line, else its last plain line. */
function firstError(output: string): string {
  let text: string | undefined;
  for (const line of output.split('\n').map((l) => l.trim()).filter(Boolean)) {
    try {
      const rec = JSON.parse(line) as { level?: unknown; msg?: unknown; err?: { message?: unknown } };
      if (typeof rec.level === 'number' && rec.level >= 50) text = [rec.msg, rec.err?.message].filter((x) => typeof x === 'string').join(': ');
    } catch {
      text = line; // not a log record: what the CLI printed
    }
  }
  return text ? ` (${text.replace(/\s+/g, ' ').slice(0, 200)})` : '';
}

/** The counters the bench reads from the gateway's admin `/metrics`. */
export interface GatewayCounters {
  /** `tollgate_requests_total`, all label sets; null if absent. */
  requests: number | null;
  /** `tollgate_state_round_trips_total`; null if absent. */
  roundTrips: number | null;
  /** `tollgate_state_events_total{type="fallback"}` (fail-open answers); null if absent. */
  fallbacks: number | null;
  /** `tollgate_state_events_total{type="error"}` (failed or timed-out store calls); null if absent. */
  errors: number | null;
}

/** Sums the samples of one counter in Prometheus text, optionally only those
 *  with the given label text; null if the metric has no sample. */
export function counterSum(text: string, name: string, labels?: string): number | null {
  let sum: number | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m?.[1] !== name || (labels !== undefined && !(m[2] ?? '').includes(labels))) continue;
    const v = Number(m[3]);
    if (Number.isFinite(v)) sum = (sum ?? 0) + v;
  }
  return sum;
}

export async function readCounters(admin: string): Promise<GatewayCounters> {
  const res = await request(`${admin}/metrics`, { headersTimeout: 5000, bodyTimeout: 5000 });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET ${admin}/metrics got ${res.statusCode}`);
  return {
    requests: counterSum(text, 'tollgate_requests_total'),
    roundTrips: counterSum(text, 'tollgate_state_round_trips_total'),
    fallbacks: counterSum(text, 'tollgate_state_events_total', 'type="fallback"'),
    errors: counterSum(text, 'tollgate_state_events_total', 'type="error"'),
  };
}

/** Reads the counters once the gateway has finished what was in flight when
 *  the load generator stopped (its request count stops moving), at most 2 s. */
export async function settledCounters(admin: string): Promise<GatewayCounters> {
  let last = await readCounters(admin);
  for (let i = 0; i < 40; i++) {
    await sleep(50);
    const next = await readCounters(admin);
    if (next.requests === last.requests && next.roundTrips === last.roundTrips) return next;
    last = next;
  }
  return last;
}
