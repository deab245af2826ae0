// `npm run bench`: Tollgate against "the floor" (bench/floor-proxy.ts) and
// against no proxy at all, on this machine, in one run; then Tollgate with a
// token-limit policy on the memory store (`limits`) and on Redis (`redis`).
//
// Why it is built this way:
// - Backend, floor, Tollgate and the load generator are separate processes;
//   autocannon runs in this process with one worker, so it never shares an
//   event loop (or a worker-thread pool) with what it measures.
// - Targets are interleaved within each round (direct, floor, tollgate,
//   limits, redis, then again), so machine drift hits all alike; ratios are
//   per round.
// - Every number is reported as median (min–max) over rounds, because on a
//   2-core box a single run can be off by 10 %.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { childrenCpuUs, cpuReader, killAllSync, machineCpu, pinSelf, startChild, stopAll, stopChild, waitReady } from './children.ts';
import type { Child, CpuReader } from './children.ts';
import { checkTarget, load, loadGenerator, ttfb } from './measure.ts';
import { TARGETS, renderTable, summarise } from './report.ts';
import type { Round, Sample, Summary, TargetName } from './report.ts';
import { redisCpu, redisKeys, startBenchRedis } from './redis-target.ts';
import type { RunningRedis } from './redis-target.ts';
import { BENCH_KEY, METRIC_POLICY, settledCounters, startTollgate } from './tollgate-target.ts';
import { alternatingSlices, renderSlices, type SliceResult } from './slices.ts';
import type { GatewayCounters, Tollgate, Variant } from './tollgate-target.ts';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = dirname(BENCH_DIR);
export const DEFAULT_OUTPUT = join(BENCH_DIR, 'results', 'latest.json');
// Above this much CPU used by other processes (or stolen by the hypervisor)
// during a measurement, the round is flagged as noisy.
const NOISY_PCT = 10;
const FIRST_WARMUP_S = 5;
const LOAD_CPU = '0';
const PROXY_CPU = '1';
/** Gateway targets and how each is configured. */
const GATEWAYS: Partial<Record<TargetName, Variant>> = { tollgate: {}, limits: { limits: true }, redis: { limits: true }, pool: { pool: true }, 'cache-hit': { cache: 'hit' }, 'cache-miss': { cache: 'miss' }, 'cache-lookup': { cache: 'lookup' }, ledger: { policy: METRIC_POLICY, ledger: true } };

export interface BenchOptions {
  /** Rounds of interleaved measurements (default 3). */
  rounds?: number;
  /** Seconds per load measurement, at concurrency C and at 1 (default 5). */
  duration?: number;
  /** Connections for the throughput measurement (default 32). */
  concurrency?: number;
  /** Subset of targets, visited in the order direct, floor, tollgate, limits, redis, pool (default all). */
  targets?: TargetName[];
  /** Sequential streaming requests per TTFB measurement (default 200). */
  ttfbRequests?: number;
  /** Where to write the JSON result; null writes nothing (default bench/results/latest.json). */
  output?: string | null;
  /** Warm-up seconds on a target's first visit (default min(5, 2 × duration));
   *  later visits warm up min(1, this). 0 skips warm-ups (smoke tests). */
  warmup?: number;
  /** Pin the proxy to CPU 1 and backend + load generator to CPU 0 (default true). */
  pin?: boolean;
  /** Cycles of alternating throughput slices after the rounds (bench/slices.ts); 0 (default) skips them. */
  slices?: number;
  /** Seconds per slice (default 2). */
  sliceSeconds?: number;
  /** Progress lines (default console.log). */
  log?: (line: string) => void;
}

export interface BenchResult {
  meta: {
    date: string;
    node: string;
    kernel: string;
    cpus: number;
    cpuModel: string;
    loadavgAtStart: number[];
    rounds: number;
    durationS: number;
    concurrency: number;
    ttfbRequests: number;
    targets: TargetName[];
    cpuSource: Partial<Record<TargetName | 'backend' | 'redis-server', 'ipc' | 'proc'>>;
    /** wrk, or autocannon when wrk could not be found or installed (bench/wrk.ts). */
    loadGenerator: 'wrk' | 'autocannon';
    /** e.g. "proxy on cpu 1; backend and load generator on cpu 0", or "none". */
    pinning: string;
  };
  /** Why a target that was asked for could not be measured, by target (empty when none was skipped). */
  skipped: Partial<Record<TargetName, string>>;
  rounds: Round[];
  summary: Summary;
  /** Throughput ratios from alternating slices; null when not run. */
  slices: SliceResult | null;
  table: string;
}

interface Target {
  name: TargetName;
  origin: string;
  /** The proxy process; undefined for direct. */
  cpu?: CpuReader;
  /** Admin origin of a gateway target, for its /metrics counters. */
  admin?: string;
  /** The state store's process (redis-server) for the redis target. */
  store?: CpuReader;
}

type Settings = Required<Omit<BenchOptions, 'output' | 'log' | 'targets' | 'pin' | 'warmup' | 'slices' | 'sliceSeconds'>>;

async function measureTarget(t: Target, backendCpu: CpuReader, o: Settings, warmupS: number): Promise<Sample> {
  if (warmupS > 0) await load(t.origin, BENCH_KEY, o.concurrency, warmupS);
  // Counters are read when the gateway is quiet (before the CPU readings, so
  // that the scrapes are not charged to the run).
  const g0 = t.admin === undefined ? undefined : await settledCounters(t.admin);
  const [p0, b0, r0, m0, s0, w0] = [await t.cpu?.read(), await backendCpu.read(), await t.store?.read(), machineCpu(), process.cpuUsage(), childrenCpuUs()];
  const t0 = performance.now();
  const main = await load(t.origin, BENCH_KEY, o.concurrency, o.duration);
  const wallUs = (performance.now() - t0) * 1000;
  const [p1, b1, r1, m1, s1, w1] = [await t.cpu?.read(), await backendCpu.read(), await t.store?.read(), machineCpu(), process.cpuUsage(s0), childrenCpuUs()];
  const g1 = t.admin === undefined ? undefined : await settledCounters(t.admin);
  const ownUs = (p1 ?? 0) - (p0 ?? 0) + (b1 - b0) + (r1 ?? 0) - (r0 ?? 0) + s1.user + s1.system + (w1 - w0); // w: wrk, a child of this process
  const c1 = await load(t.origin, BENCH_KEY, 1, o.duration);
  const stream = await ttfb(t.origin, BENCH_KEY, o.ttfbRequests, Math.min(20, o.ttfbRequests));
  const perReq = (a: number, b: number): number => (main.requests > 0 ? (b - a) / main.requests : Number.NaN);
  return {
    rps: main.rps,
    requests: main.requests,
    errors: main.errors + c1.errors,
    non2xx: main.non2xx + c1.non2xx,
    p50Ms: main.p50Ms,
    p99Ms: main.p99Ms,
    c1P50Ms: c1.p50Ms,
    c1P99Ms: c1.p99Ms,
    addedC1Ms: null,
    ttfbP50Ms: stream.p50Ms,
    ttfbP99Ms: stream.p99Ms,
    proxyCpuUsPerReq: p0 === undefined || p1 === undefined ? null : perReq(p0, p1),
    rssPeakMb: t.cpu?.rssPeakMb() ?? null,
    backendCpuUsPerReq: perReq(b0, b1),
    cpuSource: t.cpu?.source ?? null,
    otherCpuPct: Math.max(0, (100 * (m1.busyUs - m0.busyUs - ownUs)) / wallUs),
    stealPct: (100 * (m1.stealUs - m0.stealUs)) / wallUs,
    ...stateCounts(g0, g1, main.requests),
    storeCpuUsPerReq: r0 === undefined || r1 === undefined ? null : perReq(r0, r1),
  };
}

/** Round trips per request and fail-open answers over the throughput run,
 *  from the gateway's counters. Requests are the gateway's own count (those
 *  in flight when autocannon stopped included), autocannon's if it has none. */
function stateCounts(g0: GatewayCounters | undefined, g1: GatewayCounters | undefined, completed: number): Pick<Sample, 'roundTripsPerReq' | 'stateFallbacks' | 'stateErrors'> {
  const delta = (k: keyof GatewayCounters): number | null => {
    const a = g0?.[k];
    const b = g1?.[k];
    return a == null || b == null ? null : b - a;
  };
  const trips = delta('roundTrips');
  const requests = delta('requests') ?? completed;
  return { roundTripsPerReq: trips === null || requests <= 0 ? null : trips / requests, stateFallbacks: delta('fallbacks'), stateErrors: delta('errors') };
}

function describe(name: TargetName, s: Sample): string {
  const cpu = s.proxyCpuUsPerReq === null ? '' : `, proxy ${s.proxyCpuUsPerReq.toFixed(1)} µs/req`;
  const store = s.storeCpuUsPerReq === null ? '' : `, redis-server ${s.storeCpuUsPerReq.toFixed(1)} µs/req`;
  const trips = name === 'redis' ? `, ${s.roundTripsPerReq === null ? 'n/a' : s.roundTripsPerReq.toFixed(3)} round trips/req` : '';
  const bad = s.errors + s.non2xx > 0 ? `  !! ${s.errors} errors, ${s.non2xx} non-2xx` : '';
  const fallback =
    (s.stateFallbacks ?? 0) + (s.stateErrors ?? 0) > 0 ? `  !! ${s.stateErrors ?? 0} store calls failed, ${s.stateFallbacks ?? 0} answers without the store (fail-open)` : '';
  const noisy = s.otherCpuPct + s.stealPct > NOISY_PCT ? `  !! other processes used ${(s.otherCpuPct + s.stealPct).toFixed(0)} % of a core` : '';
  return `  ${name.padEnd(8)} ${s.rps.toFixed(0)} req/s, p50 ${s.p50Ms.toFixed(3)} ms, c=1 p50 ${s.c1P50Ms.toFixed(3)} ms, TTFB ${s.ttfbP50Ms.toFixed(3)} ms${cpu}${store}${trips}${bad}${fallback}${noisy}`;
}

/**
 * Runs the whole benchmark and returns the numbers; starts and always stops
 * its own child processes. Tiny values make a smoke test.
 * @example const r = await runBench({ rounds: 1, duration: 0.5, warmup: 0, ttfbRequests: 10, output: null, log: () => {} });
 */
export async function runBench(options: BenchOptions = {}): Promise<BenchResult> {
  const o = {
    rounds: Math.max(1, Math.floor(options.rounds ?? 3)),
    duration: Math.max(0.2, options.duration ?? 5),
    concurrency: Math.max(1, Math.floor(options.concurrency ?? 32)),
    ttfbRequests: Math.max(1, Math.floor(options.ttfbRequests ?? 200)),
  };
  const log = options.log ?? ((line: string) => console.log(line));
  let wanted = TARGETS.filter((t) => (options.targets ?? TARGETS).includes(t));
  const children: Child[] = [];
  const gateways: Tollgate[] = [];
  let redis: RunningRedis | undefined;
  const skipped: Partial<Record<TargetName, string>> = {};
  const startedAt = new Date().toISOString();
  const loadavgAtStart = loadavg();
  process.once('exit', killAllSync);
  // The proxy gets a core to itself, as in production, so that its
  // requests/s is set by its own CPU cost and not by which processes the
  // scheduler happens to put together; the backend and autocannon share the
  // other core, which they need less than half of at the floor's rate.
  const unpin = options.pin === false ? undefined : pinSelf(LOAD_CPU);
  try {
    const backend = startChild('backend', [join(BENCH_DIR, 'fixed-backend.ts'), '0'], REPO_ROOT, unpin ? LOAD_CPU : undefined);
    children.push(backend);
    const backendOrigin = `http://127.0.0.1:${await waitReady(backend, 10_000)}`;
    const targets: Target[] = [];
    for (const name of wanted) {
      if (name === 'direct') targets.push({ name, origin: backendOrigin });
      if (name === 'floor') {
        const floor = startChild('floor', [join(BENCH_DIR, 'floor-proxy.ts'), '0', backendOrigin], REPO_ROOT, unpin ? PROXY_CPU : undefined);
        children.push(floor);
        targets.push({ name, origin: `http://127.0.0.1:${await waitReady(floor, 10_000)}`, cpu: await cpuReader(floor) });
      }
      const variant = GATEWAYS[name];
      if (variant !== undefined) {
        let gateway: Tollgate | undefined;
        try {
          let store: CpuReader | undefined;
          let v = variant;
          if (name === 'redis') {
            redis = await startBenchRedis();
            store = redisCpu(redis);
            v = { ...variant, redisUrl: redis.url };
          }
          gateway = await startTollgate(REPO_ROOT, Number(new URL(backendOrigin).port), unpin ? PROXY_CPU : undefined, v, name);
          gateways.push(gateway);
          children.push(gateway.child);
          const origin = `http://127.0.0.1:${gateway.port}`;
          await checkTarget(origin, BENCH_KEY);
          // A gateway that falls back (fail-open) or ignores the store would
          // be measured without Redis: make sure the requests reached it.
          if (redis !== undefined && name === 'redis' && (await redisKeys(redis.port)) === 0) {
            throw new Error('the gateway answered but wrote nothing to Redis (state store not wired, or answering fail-open without it)');
          }
          targets.push({ name, origin, cpu: await cpuReader(gateway.child), admin: gateway.admin, ...(store ? { store } : {}) });
        } catch (err) {
          let why = err instanceof Error ? err.message : String(err);
          if (name === 'redis' && /unknown field "state"|state\b.*(unknown|unrecognized)/i.test(why)) {
            why = `this gateway has no \`state:\` config section yet (Redis store not wired): ${why}`;
          }
          skipped[name] = why;
          if (gateway) await stopChild(gateway.child); // idle, but not in the way
          if (name === 'redis') await redis?.stop();
          log(`${name}: SKIPPED, measuring the others only. Reason:\n${why}`);
        }
      }
    }
    for (const t of targets) if (GATEWAYS[t.name] === undefined) await checkTarget(t.origin, BENCH_KEY);
    wanted = targets.map((t) => t.name);
    const backendCpu = await cpuReader(backend);

    log(`bench: ${o.rounds} round(s) × ${o.duration} s, concurrency ${o.concurrency}, targets ${wanted.join(', ')}`);
    // A target's first visit warms it longer: V8 needs several seconds of
    // load before a Node proxy's CPU per request settles.
    const firstWarmupS = Math.max(0, options.warmup ?? Math.min(FIRST_WARMUP_S, 2 * o.duration));
    const rounds: Round[] = [];
    for (let r = 0; r < o.rounds; r++) {
      log(`round ${r + 1}/${o.rounds}`);
      const round: Round = {};
      for (const t of targets) {
        const s = await measureTarget(t, backendCpu, o, r === 0 ? firstWarmupS : Math.min(1, firstWarmupS));
        if (t.name !== 'direct' && round.direct) s.addedC1Ms = s.c1P50Ms - round.direct.c1P50Ms;
        round[t.name] = s;
        log(describe(t.name, s));
      }
      rounds.push(round);
    }

    const summary = summarise(rounds);
    let slices: SliceResult | null = null;
    const cycles = Math.floor(options.slices ?? 0);
    if (cycles > 0) {
      log(`alternating slices: ${cycles} cycles`);
      slices = await alternatingSlices(targets, { cycles, sliceS: options.sliceSeconds ?? 2, concurrency: o.concurrency, apiKey: BENCH_KEY }, log);
      for (const r of slices.ratios) summary.checks.push({ name: `${r.name} (slices)`, value: r.ratio, limit: r.limit, pass: r.pass });
    }
    const table = renderTable(summary, wanted, skipped) + (slices === null ? '' : `\n${renderSlices(slices)}`);
    const cpuSource: BenchResult['meta']['cpuSource'] = { backend: backendCpu.source };
    for (const t of targets) if (t.cpu) cpuSource[t.name] = t.cpu.source;
    for (const t of targets) if (t.store) cpuSource['redis-server'] = t.store.source;
    const result: BenchResult = {
      meta: {
        date: startedAt,
        node: process.version,
        kernel: release(),
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        loadavgAtStart,
        rounds: o.rounds,
        durationS: o.duration,
        concurrency: o.concurrency,
        ttfbRequests: o.ttfbRequests,
        targets: wanted,
        cpuSource,
        loadGenerator: loadGenerator(),
        pinning: unpin ? `proxy on cpu ${PROXY_CPU}; backend, load generator and redis-server on cpu ${LOAD_CPU}` : 'none',
      },
      skipped,
      rounds,
      summary,
      slices,
      table,
    };
    const output = options.output === undefined ? DEFAULT_OUTPUT : options.output;
    if (output !== null) {
      await mkdir(dirname(output), { recursive: true });
      await writeFile(output, JSON.stringify(result, null, 2) + '\n');
    }
    return result;
  } finally {
    await Promise.all(children.map((c) => stopChild(c)));
    await Promise.all(gateways.map((g) => g.cleanup()));
    await redis?.stop();
    process.off('exit', killAllSync);
    unpin?.();
  }
}

if (import.meta.main) {
  const { main } = await import('./cli.ts');
  await main(runBench, stopAll);
}
