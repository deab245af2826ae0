// Turns per-round samples into spreads, floor ratios and PASS/FAIL checks,
// and renders the table. Ratios are taken per round (tollgate and floor
// measured minutes apart, not a whole run apart) and then summarised, so
// slow drift of the machine cancels out.

export type TargetName = 'direct' | 'floor' | 'tollgate';

export interface Sample {
  rps: number;
  requests: number;
  errors: number;
  non2xx: number;
  p50Ms: number;
  p99Ms: number;
  c1P50Ms: number;
  c1P99Ms: number;
  /** c1P50Ms minus direct's c1P50Ms in the same round; null for direct. */
  addedC1Ms: number | null;
  ttfbP50Ms: number;
  ttfbP99Ms: number;
  /** CPU µs per request of the proxy process; null for direct. */
  proxyCpuUsPerReq: number | null;
  backendCpuUsPerReq: number;
  cpuSource: 'ipc' | 'proc' | null;
  /** CPU used by processes outside the benchmark during the throughput run, % of one core. */
  otherCpuPct: number;
  /** CPU stolen by the hypervisor during the throughput run, % of one core. */
  stealPct: number;
}

export type Round = Partial<Record<TargetName, Sample>>;

export interface Spread {
  min: number;
  median: number;
  max: number;
}

export interface Check {
  name: string;
  /** Median over rounds of the checked quantity (a ratio, or ms for TTFB). */
  value: number;
  limit: string;
  pass: boolean;
}

type Metric = Exclude<keyof Sample, 'cpuSource'>;

interface Row {
  label: string;
  metric: Metric;
  digits: number;
  check?: { name: string; limit: string; pass: (ratio: number, diff: number) => boolean; value: 'ratio' | 'diff' };
}

const ROWS: Row[] = [
  { label: 'requests/s', metric: 'rps', digits: 0, check: { name: 'requests/s', limit: '≥ 0.85× floor', pass: (r) => r >= 0.85, value: 'ratio' } },
  { label: 'latency p50 ms', metric: 'p50Ms', digits: 3 },
  { label: 'latency p99 ms', metric: 'p99Ms', digits: 3 },
  { label: 'c=1 latency p50 ms', metric: 'c1P50Ms', digits: 3 },
  { label: 'c=1 added p50 ms', metric: 'addedC1Ms', digits: 3, check: { name: 'added latency c=1', limit: '≤ 1.3× floor', pass: (r) => r <= 1.3, value: 'ratio' } },
  { label: 'stream TTFB p50 ms', metric: 'ttfbP50Ms', digits: 3, check: { name: 'stream TTFB', limit: '≤ floor + 0.5 ms', pass: (_r, d) => d <= 0.5, value: 'diff' } },
  { label: 'stream TTFB p99 ms', metric: 'ttfbP99Ms', digits: 3 },
  { label: 'proxy CPU µs/req', metric: 'proxyCpuUsPerReq', digits: 1, check: { name: 'CPU per request', limit: '≤ 1.3× floor', pass: (r) => r <= 1.3, value: 'ratio' } },
  { label: 'backend CPU µs/req', metric: 'backendCpuUsPerReq', digits: 1 },
  { label: 'other load % of a core', metric: 'otherCpuPct', digits: 0 },
];

export function spread(values: number[]): Spread | null {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { min: v[0]!, median, max: v[v.length - 1]! };
}

function series(rounds: Round[], target: TargetName, metric: Metric): number[] {
  return rounds.map((r) => r[target]?.[metric] ?? Number.NaN);
}

/** Per-round tollgate/floor ratio and tollgate−floor difference. */
function paired(rounds: Round[], metric: Metric, op: (t: number, f: number) => number): number[] {
  return rounds.map((r) => {
    const t = r.tollgate?.[metric];
    const f = r.floor?.[metric];
    return t == null || f == null ? Number.NaN : op(t, f);
  });
}

export interface Summary {
  spreads: Record<TargetName, Partial<Record<Metric, Spread>>>;
  ratios: Partial<Record<Metric, Spread>>;
  checks: Check[];
}

export function summarise(rounds: Round[]): Summary {
  const spreads: Summary['spreads'] = { direct: {}, floor: {}, tollgate: {} };
  const ratios: Summary['ratios'] = {};
  const checks: Check[] = [];
  for (const row of ROWS) {
    for (const t of ['direct', 'floor', 'tollgate'] as const) {
      const s = spread(series(rounds, t, row.metric));
      if (s !== null) spreads[t][row.metric] = s;
    }
    const ratio = spread(paired(rounds, row.metric, (t, f) => t / f));
    if (ratio !== null) ratios[row.metric] = ratio;
    const diff = spread(paired(rounds, row.metric, (t, f) => t - f));
    if (row.check && ratio !== null && diff !== null) {
      const value = row.check.value === 'ratio' ? ratio.median : diff.median;
      checks.push({ name: row.check.name, value, limit: row.check.limit, pass: row.check.pass(ratio.median, diff.median) });
    }
  }
  return { spreads, ratios, checks };
}

function cell(s: Spread | undefined, digits: number): string {
  if (s === undefined) return '—';
  const f = (x: number): string => x.toFixed(digits);
  return s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

export function renderTable(summary: Summary, targets: TargetName[], skipped: string | null): string {
  const head = ['metric: median (min–max)', ...targets, ...(targets.includes('tollgate') ? ['tollgate/floor', 'target', 'result'] : [])];
  const lines: string[][] = [head];
  for (const row of ROWS) {
    const line = [row.label, ...targets.map((t) => cell(summary.spreads[t][row.metric], row.digits))];
    if (targets.includes('tollgate')) {
      line.push(cell(summary.ratios[row.metric], 2) + (summary.ratios[row.metric] ? '×' : ''));
      const check = row.check ? summary.checks.find((c) => c.name === row.check?.name) : undefined;
      line.push(row.check?.limit ?? '');
      line.push(check === undefined ? (row.check ? 'n/a' : '') : `${check.pass ? 'PASS' : 'FAIL'}${row.check?.value === 'diff' ? ` (${check.value >= 0 ? '+' : ''}${check.value.toFixed(3)} ms)` : ''}`);
    }
    lines.push(line);
  }
  const widths = head.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  const out = lines.map((l) => l.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
  out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  if (skipped !== null) out.push('', `tollgate: SKIPPED: ${skipped.split('\n')[0] ?? ''} (details above)`);
  return out.join('\n');
}
