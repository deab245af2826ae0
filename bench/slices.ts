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

export interface SliceResult {
  cycles: number;
  sliceS: number;
  /** Mean requests/s per target over its slices. */
  rps: Partial<Record<string, number>>;
  /** Proxy CPU µs per request over all of a target's slices (the same drift-cancelling sums). */
  cpuUsPerReq: Partial<Record<string, number>>;
  /** Requests of each target in each cycle (for the spread of a caller's own ratios). */
  perCycle: Array<Partial<Record<string, number>>>;
  ratios: SliceRatio[];
}

/** Targets are named by the bench's target names (whose pairs SLICE_CHECKS compares) or by any
 *  other name (bench/metering.ts), whose ratios the caller computes from `rps`. */
export async function alternatingSlices(
  targets: ReadonlyArray<{ name: TargetName | (string & {}); origin: string; cpu?: CpuReader }>,
  opts: { cycles: number; sliceS: number; concurrency: number; apiKey: string },
  log: (line: string) => void,
): Promise<SliceResult> {
  const visited = targets.filter((t) => t.name !== 'direct');
  const perCycle: Array<Partial<Record<string, number>>> = [];
  /** CPU µs per request of each target in each cycle (for the spread of the CPU ratios). */
  const perCycleCpu: Array<Partial<Record<string, number>>> = [];
  const cpuUs: Partial<Record<string, number>> = {};
  for (let c = 0; c < opts.cycles; c++) {
    const order = c % 2 === 0 ? visited : [...visited].reverse();
    const cycle: Partial<Record<string, number>> = {};
    const cycleCpu: Partial<Record<string, number>> = {};
    for (const t of order) {
      const before = await t.cpu?.read();
      const requests = (await load(t.origin, opts.apiKey, opts.concurrency, opts.sliceS)).requests;
      cycle[t.name] = requests;
      const after = await t.cpu?.read();
      if (before !== undefined && after !== undefined) {
        cpuUs[t.name] = (cpuUs[t.name] ?? 0) + after - before;
        if (requests > 0) cycleCpu[t.name] = (after - before) / requests;
      }
    }
    perCycle.push(cycle);
    perCycleCpu.push(cycleCpu);
    log(`  slices ${c + 1}/${opts.cycles}: ${visited.map((t) => `${t.name} ${Math.round((cycle[t.name] ?? 0) / opts.sliceS)}`).join(', ')} req/s`);
  }
  const total = (name: string): number => perCycle.reduce((sum, c) => sum + (c[name] ?? 0), 0);
  const rps: SliceResult['rps'] = {};
  const cpuUsPerReq: SliceResult['cpuUsPerReq'] = {};
  for (const t of visited) {
    rps[t.name] = total(t.name) / (opts.cycles * opts.sliceS);
    const us = cpuUs[t.name];
    if (us !== undefined && total(t.name) > 0) cpuUsPerReq[t.name] = us / total(t.name);
  }
  const ratios: SliceRatio[] = [];
  for (const p of SLICE_CHECKS) {
    if (!visited.some((t) => t.name === p.target) || !visited.some((t) => t.name === p.base) || total(p.base) === 0) continue;
    const each = perCycle.map((c) => (c[p.target] ?? 0) / (c[p.base] ?? Number.NaN)).filter(Number.isFinite);
    const ratio = total(p.target) / total(p.base);
    ratios.push({ name: `${p.target} requests/s`, target: p.target, base: p.base, ratio, min: Math.min(...each), max: Math.max(...each), limit: p.limit, pass: ratio >= p.min });
  }
  for (const p of SLICE_CPU_CHECKS) {
    const [t, b] = [cpuUsPerReq[p.target], cpuUsPerReq[p.base]];
    if (t === undefined || b === undefined || b === 0) continue;
    const each = perCycleCpu.map((c) => (c[p.target] ?? Number.NaN) / (c[p.base] ?? Number.NaN)).filter(Number.isFinite);
    ratios.push({ name: `${p.target} CPU/req`, target: p.target, base: p.base, ratio: t / b, min: Math.min(...each), max: Math.max(...each), limit: p.limit, pass: t / b <= p.max });
  }
  return { cycles: opts.cycles, sliceS: opts.sliceS, rps, cpuUsPerReq, perCycle, ratios };
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
  return lines.join('\n');
}
