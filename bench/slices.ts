// Throughput ratios from alternating short slices. On these VMs one
// process's CPU per request drifts by up to 2× over tens of seconds (host
// contention), so two targets measured 10-20 s apart inside a round can
// differ by more than the effect being measured. Here every target gets a
// short slice in turn, the order reversing each cycle (A B C, C B A, ...),
// so drift slower than a cycle hits all alike, and a ratio is the sum of
// one target's requests over the sum of its base's. Same concurrency, same
// slice length: the sums compare like with like.
import type { CpuReader } from './children.ts';
import { load } from './measure.ts';
import { CPU, THROUGHPUT, type TargetName } from './report.ts';

/** The per-round throughput targets, in the order the table lists them. */
const SLICE_CHECKS = [THROUGHPUT.tollgate, THROUGHPUT.limits, THROUGHPUT.redis, THROUGHPUT.pool, THROUGHPUT.ledger, THROUGHPUT.cacheHit];
/** The CPU targets, checked on the slices' CPU sums. */
const SLICE_CPU_CHECKS = [CPU.cacheLookup];

export interface SliceRatio {
  name: string;
  target: string;
  base: string;
  /** Σ target requests / Σ base requests over all cycles (a CPU check: CPU µs per request over the base's). */
  ratio: number;
  /** Spread of the per-cycle ratios. */
  min: number;
  max: number;
  limit: string;
  pass: boolean;
}

export interface InstanceFigures {
  rps: number;
  /** Proxy CPU µs per request over this process's slices; absent without a CPU reader. */
  cpuUsPerReq?: number;
}

export interface SliceResult {
  cycles: number;
  sliceS: number;
  /** Mean requests/s per target over its slices (per slice: a target's instances are averaged, not added). */
  rps: Partial<Record<string, number>>;
  /** Proxy CPU µs per request over all of a target's slices, all its instances (the same drift-cancelling sums). */
  cpuUsPerReq: Partial<Record<string, number>>;
  /** The system (kernel) part of cpuUsPerReq, for targets whose reader gives it (/proc, 10 ms ticks). */
  sysUsPerReq: Partial<Record<string, number>>;
  /** CPU µs per request of each target in each cycle (over its instances): for paired per-cycle comparisons. */
  perCycleCpu: Array<Partial<Record<string, number>>>;
  /** Requests of each target in each cycle, summed over its instances (for the spread of a caller's own ratios). */
  perCycle: Array<Partial<Record<string, number>>>;
  /** Each target's processes, in the order the caller listed them: the spread between processes of identical code. */
  instances: Partial<Record<string, InstanceFigures[]>>;
  ratios: SliceRatio[];
}

/** One process under load. Several entries with the same name are instances of one target
 *  (separate processes of the same build and config): a process keeps a speed of its own for its
 *  whole life (memory placement, JIT decisions; measured up to 15 % on these VMs), so a target's
 *  figures are the sums over its instances, and a verdict no longer rests on one process's luck. */
export interface SliceTarget {
  name: TargetName | (string & {});
  origin: string;
  cpu?: CpuReader;
}

/** Targets are named by the bench's target names (whose pairs SLICE_CHECKS compares) or by any
 *  other name (bench/metering.ts), whose ratios the caller computes from `rps`. Every entry gets
 *  one slice per cycle, in the order given, reversed every other cycle. */
export async function alternatingSlices(
  targets: ReadonlyArray<SliceTarget>,
  opts: { cycles: number; sliceS: number; concurrency: number; apiKey: string; body?: string },
  log: (line: string) => void,
): Promise<SliceResult> {
  const visited = targets.filter((t) => t.name !== 'direct');
  const names = [...new Set(visited.map((t) => t.name))];
  const count = (name: string): number => visited.filter((t) => t.name === name).length;
  const perCycle: Array<Partial<Record<string, number>>> = [];
  /** CPU µs per request of each target in each cycle (for the spread of the CPU ratios). */
  const perCycleCpu: Array<Partial<Record<string, number>>> = [];
  /** One per entry of `visited` (one process): its requests and CPU µs over all cycles; a target's are the sums over its own. */
  const procs = visited.map((t) => ({ t, requests: 0, cpuUs: 0, cpuRead: false, sysUs: 0 }));
  for (let c = 0; c < opts.cycles; c++) {
    const order = c % 2 === 0 ? procs : [...procs].reverse();
    const cycle: Partial<Record<string, number>> = {};
    const cycleCpuUs: Partial<Record<string, number>> = {};
    for (const mine of order) {
      const t = mine.t;
      const sysBefore = t.cpu?.readSystem?.();
      const before = await t.cpu?.read();
      const requests = (await load(t.origin, opts.apiKey, opts.concurrency, opts.sliceS, opts.body)).requests;
      const after = await t.cpu?.read();
      const sysAfter = t.cpu?.readSystem?.();
      if (sysBefore !== undefined && sysAfter !== undefined) mine.sysUs += sysAfter - sysBefore;
      cycle[t.name] = (cycle[t.name] ?? 0) + requests;
      mine.requests += requests;
      if (before !== undefined && after !== undefined) {
        cycleCpuUs[t.name] = (cycleCpuUs[t.name] ?? 0) + after - before;
        mine.cpuUs += after - before;
        mine.cpuRead = true;
      }
    }
    const cycleCpu: Partial<Record<string, number>> = {};
    for (const n of names) {
      const [us, requests] = [cycleCpuUs[n], cycle[n] ?? 0];
      if (us !== undefined && requests > 0) cycleCpu[n] = us / requests;
    }
    perCycle.push(cycle);
    perCycleCpu.push(cycleCpu);
    log(`  slices ${c + 1}/${opts.cycles}: ${names.map((n) => `${n} ${Math.round((cycle[n] ?? 0) / (opts.sliceS * count(n)))}`).join(', ')} req/s`);
  }
  const total = (name: string): number => perCycle.reduce((sum, c) => sum + (c[name] ?? 0), 0);
  const rps: SliceResult['rps'] = {};
  const cpuUsPerReq: SliceResult['cpuUsPerReq'] = {};
  const sysUsPerReq: SliceResult['sysUsPerReq'] = {};
  const instances: SliceResult['instances'] = {};
  for (const n of names) {
    rps[n] = total(n) / (opts.cycles * opts.sliceS * count(n));
    const read = procs.filter((p) => p.t.name === n && p.cpuRead);
    if (read.length > 0 && total(n) > 0) cpuUsPerReq[n] = read.reduce((sum, p) => sum + p.cpuUs, 0) / total(n);
    const sys = read.reduce((sum, p) => sum + p.sysUs, 0);
    if (read.length > 0 && total(n) > 0 && read.every((p) => p.t.cpu?.readSystem !== undefined)) sysUsPerReq[n] = sys / total(n);
  }
  for (const mine of procs) {
    const figures: InstanceFigures = { rps: mine.requests / (opts.cycles * opts.sliceS) };
    if (mine.cpuRead && mine.requests > 0) figures.cpuUsPerReq = mine.cpuUs / mine.requests;
    (instances[mine.t.name] ??= []).push(figures);
  }
  const ratios: SliceRatio[] = [];
  for (const p of SLICE_CHECKS) {
    if (!names.includes(p.target) || !names.includes(p.base) || total(p.base) === 0) continue;
    // Per slice, not per cycle: a target and its base may run a different number of instances.
    const each = perCycle.map((c) => (c[p.target] ?? 0) / count(p.target) / ((c[p.base] ?? Number.NaN) / count(p.base))).filter(Number.isFinite);
    const ratio = (rps[p.target] ?? 0) / (rps[p.base] ?? Number.NaN);
    ratios.push({ name: `${p.target} requests/s`, target: p.target, base: p.base, ratio, min: Math.min(...each), max: Math.max(...each), limit: p.limit, pass: ratio >= p.min });
  }
  for (const p of SLICE_CPU_CHECKS) {
    const [t, b] = [cpuUsPerReq[p.target], cpuUsPerReq[p.base]];
    if (t === undefined || b === undefined || b === 0) continue;
    const each = perCycleCpu.map((c) => (c[p.target] ?? Number.NaN) / (c[p.base] ?? Number.NaN)).filter(Number.isFinite);
    ratios.push({ name: `${p.target} CPU/req`, target: p.target, base: p.base, ratio: t / b, min: Math.min(...each), max: Math.max(...each), limit: p.limit, pass: t / b <= p.max });
  }
  return { cycles: opts.cycles, sliceS: opts.sliceS, rps, cpuUsPerReq, sysUsPerReq, perCycle, perCycleCpu, instances, ratios };
}

/** A target's peak RSS (MB): the largest of its processes' (several entries of one name are its instances). */
export function peakRssOf(targets: ReadonlyArray<{ name: string; cpu?: CpuReader }>, name: string): number | undefined {
  const each = targets.filter((t) => t.name === name).map((t) => t.cpu?.rssPeakMb() ?? null).filter((v): v is number => v !== null);
  return each.length === 0 ? undefined : Math.max(...each);
}

export function renderSlices(s: SliceResult): string {
  const lines = [
    '',
    `throughput in alternating slices (${s.cycles} cycles × ${s.sliceS} s per target, order reversed each cycle)`,
    `  ${'check'.padEnd(22)}${'ratio (per-cycle min–max)'.padEnd(32)}${'target'.padEnd(18)}result`,
  ];
  for (const r of s.ratios) {
    const ratio = `${r.ratio.toFixed(2)}× ${r.base} (${r.min.toFixed(2)}–${r.max.toFixed(2)})`;
    lines.push(`  ${r.name.padEnd(22)}${ratio.padEnd(32)}${r.limit.padEnd(18)}${r.pass ? 'PASS' : 'FAIL'}`);
  }
  const each = Object.keys(s.rps).map((t) => {
    const cpu = s.cpuUsPerReq[t];
    return `${t} ${Math.round(s.rps[t] ?? 0)} req/s${cpu === undefined ? '' : `, ${cpu.toFixed(1)} µs CPU/req`}`;
  });
  lines.push(`  per target over all slices: ${each.join('; ')}`);
  const spreadLines = renderInstances(s.instances);
  if (spreadLines.length > 0) lines.push('  per process of a target (identical code and config: the spread is the process\'s own speed):', ...spreadLines.map((l) => `  ${l}`));
  return lines.join('\n');
}

/** One line per target with more than one instance: each process's requests/s and CPU µs per
 *  request, and the largest over the smallest of them. */
export function renderInstances(instances: SliceResult['instances']): string[] {
  const lines: string[] = [];
  for (const [name, each = []] of Object.entries(instances)) {
    if (each.length < 2) continue;
    const cpu = each.map((i) => i.cpuUsPerReq).filter((v): v is number => v !== undefined);
    const rps = each.map((i) => i.rps);
    const cpuPart = cpu.length === each.length ? `CPU µs/req ${cpu.map((v) => v.toFixed(1)).join(' / ')} (max/min ${(Math.max(...cpu) / Math.min(...cpu)).toFixed(3)}); ` : '';
    lines.push(`  ${name}: ${cpuPart}req/s ${rps.map((v) => v.toFixed(0)).join(' / ')} (max/min ${(Math.max(...rps) / Math.min(...rps)).toFixed(3)})`);
  }
  return lines;
}
