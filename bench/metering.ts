// `node bench/metering.ts [--cycles N] [--slice-seconds S] [--concurrency C] [--instances N] [--no-pin] [--main-thread] [--base DIR] [--only plain,usage] [--profile DIR] [--strict]`:
// what the usage path costs a request, layer by layer, in one run. Gateways in front of the same
// fixed backend, measured in alternating slices (bench/slices.ts: drift hits all alike):
//
//   plain    the chain without metering (auth, usage extraction, forward)
//   metrics  + Pattern 5's token metric with two expression dimensions (METRIC_POLICY)
//   usage    metrics + the usage ledger on SQLite: issue 14's "usage path", the checked target
//   loggers  metrics + a log-to-eventhub of the seed's JObject message to a file logger (METERING_POLICY)
//   full     metrics + loggers + ledger: everything metering can put on a request
//
// Prints requests/s and the gateway's CPU µs per request of each, each one's ratio to plain, and
// checks issue 14's target (usage ≥ 0.95× plain's requests/s; the logger targets are information:
// the issue's target does not include a logger). `--base DIR` adds the plain and usage targets of
// another checkout (an older build, its node_modules in place), so one run compares old and new
// builds the same way. `--only` keeps the named targets (plain always): fewer targets make a cycle
// shorter, so drift on a loaded machine moves less between the slices compared. `--profile DIR` makes every gateway write a V8 CPU profile there when it
// stops. `--instances N` starts every target N times (separate processes; a target's figures are
// the sums over its processes, and the spread between them is printed): a process keeps a speed of
// its own for its whole life, so one process per target makes a verdict partly the luck of which
// process got which speed. Then checks that every request has its ledger row and every answer the
// client received its logger line. `--strict` exits 1 when the target or one of those checks fails.
// `--main-thread` counts the CPU of each gateway's main thread (its event loop, what bounds its
// requests/s) instead of all its threads (the ledger's writer thread, GC helpers, libuv's pool).
import { DatabaseSync } from 'node:sqlite';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { killAllSync, procCpuReader, pinSelf, startChild, stopAll, stopChild, waitReady } from './children.ts';
import { checkTarget, load } from './measure.ts';
import { spread } from './report.ts';
import { alternatingSlices, peakRssOf, renderInstances } from './slices.ts';
import { BENCH_KEY, counterSum, freePort, METRIC_POLICY, settledCounters, startTollgate, type Tollgate, type Variant } from './tollgate-target.ts';

/** Cycles with one process per target; with more, fewer (see `cycles`). */
const DEFAULT_CYCLES = 8;
/** Processes per target. One: at the same run time, 2 or 3 did not narrow the spread of identical-code
 *  ratios between runs on the shared VM, where slice-to-slice noise outweighs a process's own speed
 *  (docs/performance.md, "Per-process variance"). */
const DEFAULT_INSTANCES = 1;
/** Seconds of load each gateway process gets before the slices start (not measured). */
const WARMUP_S = 2;

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = dirname(BENCH_DIR);

const { values } = parseArgs({
  options: {
    cycles: { type: 'string' },
    'slice-seconds': { type: 'string' },
    concurrency: { type: 'string' },
    instances: { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
    'main-thread': { type: 'boolean', default: false },
    base: { type: 'string' },
    profile: { type: 'string' },
    only: { type: 'string' },
    strict: { type: 'boolean', default: false },
  },
});
const instances = Number(values.instances ?? DEFAULT_INSTANCES);
if (!Number.isInteger(instances) || instances < 1) throw new Error(`--instances must be a whole number ≥ 1, got ${values.instances}`);
// A cycle gives every process a slice, so N instances make a cycle N times longer: the default
// divides the cycles instead, and a run takes about as long as with one process per target.
// (Not shorter slices: wrk counts whole seconds, and a slice's start-up is a larger share of a short one.)
const cycles = Number(values.cycles ?? Math.max(2, Math.round(DEFAULT_CYCLES / instances)));
const sliceS = Number(values['slice-seconds'] ?? 2);
const concurrency = Number(values.concurrency ?? 16);
const nodeFlags = values.profile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', resolve(values.profile)];

interface Spec {
  name: string;
  root: string;
  variant: (dir: string) => Variant;
  /** The file logger's file, when the target has one. */
  logFile?: (dir: string) => string;
  ledger?: boolean;
}

/** Issue 14: the usage path costs at most 5 % of the same chain's requests/s. */
const TARGET_RATIO = 0.95;

const only = values.only === undefined ? null : new Set(['plain', ...values.only.split(',')]);
const ALL_SPECS: Spec[] = [
  { name: 'plain', root: REPO_ROOT, variant: () => ({}) },
  { name: 'metrics', root: REPO_ROOT, variant: () => ({ policy: METRIC_POLICY }) },
  { name: 'usage', root: REPO_ROOT, variant: () => ({ policy: METRIC_POLICY, ledger: true }), ledger: true },
  { name: 'loggers', root: REPO_ROOT, variant: (dir) => ({ meteringDir: dir }), logFile: (dir) => join(dir, 'usage.jsonl') },
  { name: 'full', root: REPO_ROOT, variant: (dir) => ({ meteringDir: dir, ledger: true }), logFile: (dir) => join(dir, 'usage.jsonl'), ledger: true },
];
const SPECS = ALL_SPECS.filter((s) => only === null || only.has(s.name));
if (values.base !== undefined) {
  const base = resolve(values.base);
  SPECS.push({ name: 'plain@base', root: base, variant: () => ({}) });
  SPECS.push({ name: 'usage@base', root: base, variant: () => ({ policy: METRIC_POLICY, ledger: true }), ledger: true });
}
let failed = false;

process.once('exit', killAllSync);
const unpin = values['no-pin'] ? undefined : pinSelf('0');
const proxyCpu = unpin ? '1' : undefined;
const dirs: string[] = [];
const running: Array<{ spec: Spec; gw: Tollgate; dir: string; label: string }> = [];
try {
  const backend = startChild('backend', [join(BENCH_DIR, 'fixed-backend.ts'), String(await freePort())], REPO_ROOT, unpin ? '0' : undefined);
  const backendPort = await waitReady(backend, 10_000);
  // Instance-major (every target's first process, then every target's second, ...): a cycle
  // visits one process of each target before the next one of any, so drift within a cycle
  // spreads over the targets alike.
  for (let i = 0; i < instances; i++) {
    for (const spec of SPECS) {
      const label = instances === 1 ? spec.name : `${spec.name}#${i + 1}`;
      const dir = await mkdtemp(join(tmpdir(), `tollgate-bench-metering-${label.replace(/[@#]/g, '-')}-`));
      dirs.push(dir);
      const gw = await startTollgate(spec.root, backendPort, proxyCpu, { ...spec.variant(dir), nodeFlags }, label);
      running.push({ spec, gw, dir, label });
    }
  }
  const targets = running.map((r) => ({ name: r.spec.name, origin: `http://127.0.0.1:${r.gw.port}`, cpu: procCpuReader(r.gw.child, values['main-thread']) }));
  for (const t of targets) await checkTarget(t.origin, BENCH_KEY);
  // Each process's first seconds run JIT-cold code: measured, they would weigh on whichever target
  // they fell to (more so with fewer cycles per process, --instances). 2 s of the same load first.
  for (const t of targets) {
    const warm = await load(t.origin, BENCH_KEY, concurrency, WARMUP_S);
    if (warm.non2xx > 0 || warm.errors > 0) throw new Error(`${t.name}: ${warm.non2xx} non-2xx, ${warm.errors} errors in the warm-up`);
  }
  const load0 = loadavg();
  console.log(`metering bench: ${cycles} cycles × ${sliceS} s per target${instances === 1 ? '' : ` process, ${instances} processes per target`}, concurrency ${concurrency}, ${unpin ? 'gateways pinned to CPU 1, load generator and backend to CPU 0' : 'not pinned'}${values['main-thread'] ? ', CPU of each gateway\'s main thread only' : ''}; load average ${load0.map((l) => l.toFixed(2)).join(' ')}`);
  const result = await alternatingSlices(targets, { cycles, sliceS, concurrency, apiKey: BENCH_KEY }, (line) => console.log(line));
  const load1 = loadavg();
  const plainRps = result.rps['plain'] ?? Number.NaN;
  const plainCpu = result.cpuUsPerReq['plain'] ?? Number.NaN;
  console.log(`\nper target over all slices (load average at the end ${load1.map((l) => l.toFixed(2)).join(' ')}):`);
  console.log(`  ${'target'.padEnd(13)}${'req/s'.padStart(8)}${'× plain'.padStart(10)}${'CPU µs/req'.padStart(13)}${'+ µs vs plain'.padStart(15)}${'peak RSS MB'.padStart(13)}`);
  for (const t of SPECS) {
    const base = t.name.endsWith('@base') ? 'plain@base' : 'plain';
    const rps = result.rps[t.name] ?? Number.NaN;
    const cpu = result.cpuUsPerReq[t.name] ?? Number.NaN;
    const baseCpu = result.cpuUsPerReq[base] ?? Number.NaN;
    console.log(`  ${t.name.padEnd(13)}${rps.toFixed(0).padStart(8)}${(rps / (result.rps[base] ?? Number.NaN)).toFixed(3).padStart(10)}${cpu.toFixed(1).padStart(13)}${(cpu - baseCpu).toFixed(1).padStart(15)}${(peakRssOf(targets, t.name)?.toFixed(0) ?? '?').padStart(13)}`);
  }
  const perProcess = renderInstances(result.instances);
  if (perProcess.length > 0) console.log(`  per process of a target (identical code and config: the spread is the process's own speed):\n${perProcess.map((l) => `  ${l}`).join('\n')}`);
  const usageRatio = (result.rps['usage'] ?? 0) / plainRps;
  const pass = usageRatio >= TARGET_RATIO;
  if (!pass) failed = true;
  console.log(`\nusage path (metrics + ledger on SQLite) / plain requests/s: ${usageRatio.toFixed(3)} (issue 14: ≥ ${TARGET_RATIO}) ${pass ? 'PASS' : 'FAIL'}`);
  // The check is on the sums; the per-cycle spread says how far one run can be trusted.
  const each = spread(result.perCycle.map((c) => (c['usage'] ?? 0) / (c['plain'] ?? Number.NaN)));
  if (each !== null) console.log(`  per cycle: min ${each.min.toFixed(3)}, median ${each.median.toFixed(3)}, max ${each.max.toFixed(3)}`);
  const ran = (name: string): boolean => result.rps[name] !== undefined;
  if (ran('full')) console.log(`  with a file logger too (information, not the issue's target): ${((result.rps['full'] ?? 0) / plainRps).toFixed(3)}`);
  const cpuOf = (name: string): number => result.cpuUsPerReq[name] ?? Number.NaN;
  // Each step only when both its targets ran (`--only` may leave some out).
  const step = (label: string, name: string, from: string, fromCpu = cpuOf(from)): string[] => (ran(name) && (from === 'plain' || ran(from)) ? [`${label} ${(cpuOf(name) - fromCpu).toFixed(1)} µs`] : []);
  const steps = [...step('metrics', 'metrics', 'plain', plainCpu), ...step('+ ledger', 'usage', 'metrics'), ...step('usage path', 'usage', 'plain', plainCpu), ...step('+ logger', 'loggers', 'metrics'), ...step('everything', 'full', 'plain', plainCpu)];
  console.log(`  added CPU per request: ${steps.join('; ')}`);
  if (values.base !== undefined) {
    const newCpu = cpuOf('usage');
    const oldCpu = cpuOf('usage@base');
    const oldRatio = (result.rps['usage@base'] ?? 0) / (result.rps['plain@base'] ?? Number.NaN);
    const baseEach = spread(result.perCycle.map((c) => (c['usage@base'] ?? 0) / (c['plain@base'] ?? Number.NaN)));
    if (baseEach !== null) console.log(`  base's usage / its plain per cycle: min ${baseEach.min.toFixed(3)}, median ${baseEach.median.toFixed(3)}, max ${baseEach.max.toFixed(3)}`);
    // plain and plain@base are the same chain; with the same code on both sides (--base at a
    // clean checkout) this ratio is the bench's own noise, which no verdict can be finer than.
    console.log(`  base vs this build, plain: ${((result.rps['plain@base'] ?? Number.NaN) / plainRps).toFixed(3)}× requests/s, ${(cpuOf('plain@base') / plainCpu).toFixed(3)}× CPU µs/request`);
    console.log(`  this build vs base, usage path: ${newCpu.toFixed(1)} vs ${oldCpu.toFixed(1)} µs CPU/request (${((newCpu / oldCpu - 1) * 100).toFixed(1)} %); added over its own plain: ${(newCpu - plainCpu).toFixed(1)} vs ${(oldCpu - cpuOf('plain@base')).toFixed(1)} µs; × its own plain's requests/s: ${usageRatio.toFixed(3)} vs ${oldRatio.toFixed(3)}`);
  }

  // What each gateway answered, then a graceful stop (the loggers and the ledger drain), then
  // their files: one logger line and one ledger row per request answered.
  const answered = new Map<string, { total: number; left: number }>();
  for (const r of running) {
    const total = (await settledCounters(r.gw.admin)).requests ?? 0;
    const text = await (await fetch(`${r.gw.admin}/metrics`)).text();
    // Requests wrk cut at a slice's end are 499 (the client left first): a ledger row, but no
    // logger line (the outbound section never ran).
    answered.set(r.label, { total, left: counterSum(text, 'tollgate_requests_total', 'status="499"') ?? 0 });
  }
  for (const r of running) await stopChild(r.gw.child, 15_000);
  for (const r of running) {
    const a = answered.get(r.label) ?? { total: 0, left: 0 };
    const parts: string[] = [];
    if (r.spec.logFile !== undefined) {
      const lines = (await readFile(r.spec.logFile(r.dir), 'utf8').catch(() => '')).split('\n').filter((l) => l !== '').length;
      if (lines !== a.total - a.left) failed = true;
      parts.push(`${lines} logger lines (${lines === a.total - a.left ? 'one per answer the client received' : 'MISMATCH'})`);
    }
    if (r.spec.ledger === true) {
      const rows = ledgerRows(join(r.gw.dir, 'ledger.sqlite'));
      if (rows !== a.total) failed = true;
      parts.push(`${rows} ledger rows (${rows === a.total ? 'one per request' : 'MISMATCH'})`);
    }
    if (parts.length > 0) console.log(`  ${r.label}: ${a.total} requests answered, ${a.left} of them 499; ${parts.join(', ')}`);
  }
} finally {
  for (const r of running) await r.gw.cleanup();
  await stopAll();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  unpin?.();
  process.off('exit', killAllSync);
}
if (values.strict && failed) process.exitCode = 1;

function ledgerRows(path: string): number | string {
  try {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM usage_ledger').get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch (err) {
    return `unreadable (${(err as Error).message})`;
  }
}
