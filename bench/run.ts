// `npm run bench`: Tollgate against "the floor" (bench/floor-proxy.ts) and
// against no proxy at all, on this machine, in one run.
//
// Why it is built this way:
// - Backend, floor, Tollgate and the load generator are separate processes;
//   autocannon runs in this process with one worker, so it never shares an
//   event loop (or a worker-thread pool) with what it measures.
// - Targets are interleaved within each round (direct, floor, tollgate, then
//   again), so machine drift hits all three alike; ratios are per round.
// - Every number is reported as median (min–max) over rounds, because on a
//   2-core box a single run can be off by 10 %.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { cpuReader, killAllSync, machineCpu, pinSelf, startChild, stopAll, stopChild, waitReady } from './children.ts';
import type { Child, CpuReader } from './children.ts';
import { checkTarget, load, ttfb } from './measure.ts';
import { renderTable, summarise } from './report.ts';
import type { Round, Sample, Summary, TargetName } from './report.ts';
import { BENCH_KEY, startTollgate } from './tollgate-target.ts';
import type { Tollgate } from './tollgate-target.ts';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = dirname(BENCH_DIR);
export const DEFAULT_OUTPUT = join(BENCH_DIR, 'results', 'latest.json');
// Above this much CPU used by other processes (or stolen by the hypervisor)
// during a measurement, the round is flagged as noisy.
const NOISY_PCT = 10;
const FIRST_WARMUP_S = 5;
const LOAD_CPU = '0';
const PROXY_CPU = '1';
const ALL_TARGETS: readonly TargetName[] = ['direct', 'floor', 'tollgate'];

export interface BenchOptions {
  /** Rounds of interleaved measurements (default 3). */
  rounds?: number;
  /** Seconds per load measurement, at concurrency C and at 1 (default 5). */
  duration?: number;
  /** Connections for the throughput measurement (default 32). */
  concurrency?: number;
  /** Subset and order of targets (default direct, floor, tollgate). */
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
    cpuSource: Partial<Record<TargetName | 'backend', 'ipc' | 'proc'>>;
    /** e.g. "proxy on cpu 1; backend and load generator on cpu 0", or "none". */
    pinning: string;
  };
  /** Why tollgate was not measured, if it was asked for and could not be. */
  skipped: string | null;
  rounds: Round[];
  summary: Summary;
  table: string;
}

interface Target {
  name: TargetName;
  origin: string;
  /** The proxy process; undefined for direct. */
  cpu?: CpuReader;
}

type Settings = Required<Omit<BenchOptions, 'output' | 'log' | 'targets' | 'pin' | 'warmup'>>;

async function measureTarget(t: Target, backendCpu: CpuReader, o: Settings, warmupS: number): Promise<Sample> {
  if (warmupS > 0) await load(t.origin, BENCH_KEY, o.concurrency, warmupS);
  const [p0, b0, m0, s0] = [await t.cpu?.read(), await backendCpu.read(), machineCpu(), process.cpuUsage()];
  const t0 = performance.now();
  const main = await load(t.origin, BENCH_KEY, o.concurrency, o.duration);
  const wallUs = (performance.now() - t0) * 1000;
  const [p1, b1, m1, s1] = [await t.cpu?.read(), await backendCpu.read(), machineCpu(), process.cpuUsage(s0)];
  const ownUs = (p1 ?? 0) - (p0 ?? 0) + (b1 - b0) + s1.user + s1.system;
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
    backendCpuUsPerReq: perReq(b0, b1),
    cpuSource: t.cpu?.source ?? null,
    otherCpuPct: Math.max(0, (100 * (m1.busyUs - m0.busyUs - ownUs)) / wallUs),
    stealPct: (100 * (m1.stealUs - m0.stealUs)) / wallUs,
  };
}

function describe(name: TargetName, s: Sample): string {
  const cpu = s.proxyCpuUsPerReq === null ? '' : `, proxy ${s.proxyCpuUsPerReq.toFixed(1)} µs/req`;
  const bad = s.errors + s.non2xx > 0 ? `  !! ${s.errors} errors, ${s.non2xx} non-2xx` : '';
  const noisy = s.otherCpuPct + s.stealPct > NOISY_PCT ? `  !! other processes used ${(s.otherCpuPct + s.stealPct).toFixed(0)} % of a core` : '';
  return `  ${name.padEnd(8)} ${s.rps.toFixed(0)} req/s, p50 ${s.p50Ms.toFixed(3)} ms, c=1 p50 ${s.c1P50Ms.toFixed(3)} ms, TTFB ${s.ttfbP50Ms.toFixed(3)} ms${cpu}${bad}${noisy}`;
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
  let wanted = ALL_TARGETS.filter((t) => (options.targets ?? ALL_TARGETS).includes(t));
  const children: Child[] = [];
  let tollgate: Tollgate | undefined;
  let skipped: string | null = null;
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
      if (name === 'tollgate') {
        try {
          tollgate = await startTollgate(REPO_ROOT, Number(new URL(backendOrigin).port), unpin ? PROXY_CPU : undefined);
          children.push(tollgate.child);
          const origin = `http://127.0.0.1:${tollgate.port}`;
          await checkTarget(origin, BENCH_KEY);
          targets.push({ name, origin, cpu: await cpuReader(tollgate.child) });
        } catch (err) {
          skipped = err instanceof Error ? err.message : String(err);
          if (tollgate) await stopChild(tollgate.child); // idle, but not in the way
          log(`tollgate: SKIPPED, measuring the others only. Reason:\n${skipped}`);
        }
      }
    }
    for (const t of targets) if (t.name !== 'tollgate') await checkTarget(t.origin, BENCH_KEY);
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
    const table = renderTable(summary, wanted, skipped);
    const cpuSource: BenchResult['meta']['cpuSource'] = { backend: backendCpu.source };
    for (const t of targets) if (t.cpu) cpuSource[t.name] = t.cpu.source;
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
        pinning: unpin ? `proxy on cpu ${PROXY_CPU}; backend and load generator on cpu ${LOAD_CPU}` : 'none',
      },
      skipped,
      rounds,
      summary,
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
    await tollgate?.cleanup();
    process.off('exit', killAllSync);
    unpin?.();
  }
}

if (import.meta.main) {
  const { main } = await import('./cli.ts');
  await main(runBench, stopAll);
}
