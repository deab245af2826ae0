// `node bench/metering.ts [--cycles N] [--slice-seconds S] [--concurrency C] [--no-pin] [--base DIR] [--profile DIR]`:
// what the usage path costs a request, layer by layer, in one run. Gateways in front of the same
// fixed backend, measured in alternating slices (bench/slices.ts: drift hits all alike):
//
//   plain    the chain without metering (auth, usage extraction, forward)
//   metrics  + Pattern 5's token metric with two expression dimensions (METRIC_POLICY)
//   loggers  + a log-to-eventhub of the seed's JObject message to a file logger (METERING_POLICY)
//   ledger   + the usage ledger on SQLite: the whole usage path
//
// Prints requests/s and the gateway's CPU µs per request of each, each one's ratio to plain, and
// checks issue 14's target (the full usage path ≥ 0.95× plain's requests/s). `--base DIR` adds
// the plain and full targets of another checkout (an older build, its node_modules in place), so
// one run compares old and new builds the same way. `--profile DIR` makes every gateway write a
// V8 CPU profile there when it stops. Then checks that every request has its ledger row and every
// answer the client received its logger line.
import { DatabaseSync } from 'node:sqlite';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { killAllSync, procCpuReader, pinSelf, startChild, stopAll, stopChild, waitReady } from './children.ts';
import { checkTarget } from './measure.ts';
import { alternatingSlices } from './slices.ts';
import { BENCH_KEY, counterSum, settledCounters, startTollgate, type Tollgate, type Variant } from './tollgate-target.ts';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = dirname(BENCH_DIR);

/** The token metric alone (the first half of METERING_POLICY). */
export const METRIC_POLICY =
  '<policies><inbound><base /><azure-openai-emit-token-metric namespace="ai-gateway"><dimension name="Tenant" value="@(context.Subscription.Id)" /><dimension name="API" value="@(context.Api.Name)" /></azure-openai-emit-token-metric></inbound></policies>';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string' },
    'slice-seconds': { type: 'string' },
    concurrency: { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
    base: { type: 'string' },
    profile: { type: 'string' },
  },
});
const cycles = Number(values.cycles ?? 8);
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

const SPECS: Spec[] = [
  { name: 'plain', root: REPO_ROOT, variant: () => ({}) },
  { name: 'metrics', root: REPO_ROOT, variant: () => ({ policy: METRIC_POLICY }) },
  { name: 'loggers', root: REPO_ROOT, variant: (dir) => ({ meteringDir: dir }), logFile: (dir) => join(dir, 'usage.jsonl') },
  { name: 'ledger', root: REPO_ROOT, variant: (dir) => ({ meteringDir: dir, ledger: true }), logFile: (dir) => join(dir, 'usage.jsonl'), ledger: true },
];
if (values.base !== undefined) {
  const base = resolve(values.base);
  SPECS.push({ name: 'plain@base', root: base, variant: () => ({}) });
  SPECS.push({ name: 'ledger@base', root: base, variant: (dir) => ({ meteringDir: dir, ledger: true }), logFile: (dir) => join(dir, 'usage.jsonl'), ledger: true });
}

process.once('exit', killAllSync);
const unpin = values['no-pin'] ? undefined : pinSelf('0');
const proxyCpu = unpin ? '1' : undefined;
const dirs: string[] = [];
const running: Array<{ spec: Spec; gw: Tollgate; dir: string }> = [];
try {
  const backend = startChild('backend', [join(BENCH_DIR, 'fixed-backend.ts'), '0'], REPO_ROOT, unpin ? '0' : undefined);
  const backendPort = await waitReady(backend, 10_000);
  for (const spec of SPECS) {
    const dir = await mkdtemp(join(tmpdir(), `tollgate-bench-metering-${spec.name.replace('@', '-')}-`));
    dirs.push(dir);
    const gw = await startTollgate(spec.root, backendPort, proxyCpu, { ...spec.variant(dir), nodeFlags }, spec.name);
    running.push({ spec, gw, dir });
  }
  const targets = running.map((r) => ({ name: r.spec.name, origin: `http://127.0.0.1:${r.gw.port}`, cpu: procCpuReader(r.gw.child) }));
  for (const t of targets) await checkTarget(t.origin, BENCH_KEY);
  const load0 = loadavg();
  console.log(`metering bench: ${cycles} cycles × ${sliceS} s per target, concurrency ${concurrency}, ${unpin ? 'gateways pinned to CPU 1, load generator and backend to CPU 0' : 'not pinned'}; load average ${load0.map((l) => l.toFixed(2)).join(' ')}`);
  const result = await alternatingSlices(targets, { cycles, sliceS, concurrency, apiKey: BENCH_KEY }, (line) => console.log(line));
  const load1 = loadavg();
  const plainRps = result.rps['plain'] ?? Number.NaN;
  const plainCpu = result.cpuUsPerReq['plain'] ?? Number.NaN;
  console.log(`\nper target over all slices (load average at the end ${load1.map((l) => l.toFixed(2)).join(' ')}):`);
  console.log(`  ${'target'.padEnd(13)}${'req/s'.padStart(8)}${'× plain'.padStart(10)}${'CPU µs/req'.padStart(13)}${'+ µs vs plain'.padStart(15)}${'peak RSS MB'.padStart(13)}`);
  for (const t of targets) {
    const base = t.name.endsWith('@base') ? 'plain@base' : 'plain';
    const rps = result.rps[t.name] ?? Number.NaN;
    const cpu = result.cpuUsPerReq[t.name] ?? Number.NaN;
    const baseCpu = result.cpuUsPerReq[base] ?? Number.NaN;
    console.log(`  ${t.name.padEnd(13)}${rps.toFixed(0).padStart(8)}${(rps / (result.rps[base] ?? Number.NaN)).toFixed(3).padStart(10)}${cpu.toFixed(1).padStart(13)}${(cpu - baseCpu).toFixed(1).padStart(15)}${(t.cpu.rssPeakMb()?.toFixed(0) ?? '?').padStart(13)}`);
  }
  const fullRatio = (result.rps['ledger'] ?? 0) / plainRps;
  console.log(`\nfull usage path (metrics + loggers + ledger on SQLite) / plain requests/s: ${fullRatio.toFixed(3)} (issue 14: ≥ 0.95) ${fullRatio >= 0.95 ? 'PASS' : 'FAIL'}`);
  console.log(`  added CPU: metrics ${((result.cpuUsPerReq['metrics'] ?? 0) - plainCpu).toFixed(1)} µs, + loggers ${((result.cpuUsPerReq['loggers'] ?? 0) - (result.cpuUsPerReq['metrics'] ?? 0)).toFixed(1)} µs, + ledger ${((result.cpuUsPerReq['ledger'] ?? 0) - (result.cpuUsPerReq['loggers'] ?? 0)).toFixed(1)} µs per request`);
  if (values.base !== undefined) {
    const newCpu = result.cpuUsPerReq['ledger'] ?? Number.NaN;
    const oldCpu = result.cpuUsPerReq['ledger@base'] ?? Number.NaN;
    console.log(`  this build vs base, full usage path: ${newCpu.toFixed(1)} vs ${oldCpu.toFixed(1)} µs CPU/request (${((newCpu / oldCpu - 1) * 100).toFixed(1)} %); added over its own plain: ${(newCpu - plainCpu).toFixed(1)} vs ${(oldCpu - (result.cpuUsPerReq['plain@base'] ?? Number.NaN)).toFixed(1)} µs`);
  }

  // What each gateway answered, then a graceful stop (the loggers and the ledger drain), then
  // their files: one logger line and one ledger row per request answered.
  const answered = new Map<string, { total: number; left: number }>();
  for (const r of running) {
    const total = (await settledCounters(r.gw.admin)).requests ?? 0;
    const text = await (await fetch(`${r.gw.admin}/metrics`)).text();
    // Requests wrk cut at a slice's end are 499 (the client left first): a ledger row, but no
    // logger line (the outbound section never ran).
    answered.set(r.spec.name, { total, left: counterSum(text, 'tollgate_requests_total', 'status="499"') ?? 0 });
  }
  for (const r of running) await stopChild(r.gw.child, 15_000);
  for (const r of running) {
    const a = answered.get(r.spec.name) ?? { total: 0, left: 0 };
    const parts: string[] = [];
    if (r.spec.logFile !== undefined) {
      const lines = (await readFile(r.spec.logFile(r.dir), 'utf8').catch(() => '')).split('\n').filter((l) => l !== '').length;
      parts.push(`${lines} logger lines (${lines === a.total - a.left ? 'one per answer the client received' : 'MISMATCH'})`);
    }
    if (r.spec.ledger === true) {
      const rows = ledgerRows(join(r.gw.dir, 'ledger.sqlite'));
      parts.push(`${rows} ledger rows (${rows === a.total ? 'one per request' : 'MISMATCH'})`);
    }
    if (parts.length > 0) console.log(`  ${r.spec.name}: ${a.total} requests answered, ${a.left} of them 499; ${parts.join(', ')}`);
  }
} finally {
  for (const r of running) await r.gw.cleanup();
  await stopAll();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  unpin?.();
  process.off('exit', killAllSync);
}

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
