// Command line for bench/run.ts. It takes runBench as a parameter rather than
// importing it, because run.ts loads this file while it is itself still
// being evaluated.
import { parseArgs } from 'node:util';
import type { BenchOptions, BenchResult } from './run.ts';
import { TARGETS } from './report.ts';
import type { TargetName } from './report.ts';
import { semanticIndexChecks } from './semantic-index-run.ts';

const USAGE = `usage: npm run bench -- [--rounds N] [--duration S] [--concurrency C]
                        [--targets direct,floor,tollgate,limits,redis,pool,cache-hit,cache-miss,cache-lookup,ledger] [--ttfb-requests N] [--warmup S]
                        [--slices N] [--slice-seconds S] [--quick] [--strict] [--no-pin] [--out FILE]
                        [--semantic-index [--index-entries N]]
  env: BENCH_ROUNDS, BENCH_DURATION, BENCH_CONCURRENCY, BENCH_TARGETS
  --slices  cycles of alternating throughput slices after the rounds (default 10,
            0 skips them): every target in turn for --slice-seconds (default 2),
            order reversed each cycle; the throughput checks are repeated on
            their sums, which cancels drift the rounds cannot (bench/slices.ts)
  --quick   1 round of 2 s (smoke run), no slices
  --warmup  seconds of load on each target's first visit (default min(5, 2 × duration))
  --targets any of direct, floor, tollgate, limits (token-limit policy, memory
            store), redis (the same on a private redis-server), pool (a backend
            pool of three members with circuit breakers), cache-hit (the semantic
            cache answering every request), cache-miss (a lookup that always
            misses: one embeddings call, then the forward), cache-lookup
            (the same miss with the prompt's vector remembered: the lookup's own
            CPU without the embeddings round trip), ledger (issue 14's
            usage path: the tollgate config plus a token metric with two
            expression dimensions and the usage ledger on SQLite); default all,
            visited in that order; redis is skipped with a message if it cannot start
  --strict  exit 1 if any check FAILs or a requested target could not run
  --semantic-index  afterwards, the semantic cache's vector search at scale
            (bench/semantic-index.ts: --index-entries, default 100000, × 1536
            random vectors): lookup p99 ≤ 5 ms and recall@1 ≥ 0.95 become checks
            of this run (3–4 minutes on both cores for the graph build)
  --no-pin  let the scheduler place processes (default: proxy on cpu 1,
            backend and load generator on cpu 0)`;

function num(flag: string | undefined, env: string, fallback: number): number {
  const raw = flag ?? process.env[env];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${env.toLowerCase()} must be a positive number, got ${raw}`);
  return n;
}

function targets(raw: string | undefined): TargetName[] | undefined {
  if (raw === undefined || raw === '') return undefined;
  const names = raw.split(',').map((s) => s.trim());
  for (const n of names) {
    if (!(TARGETS as readonly string[]).includes(n)) throw new Error(`unknown target ${n} (${TARGETS.join(', ')})`);
  }
  return names as TargetName[];
}

export async function main(run: (o: BenchOptions) => Promise<BenchResult>, stopAll: () => Promise<void>): Promise<void> {
  const { values } = parseArgs({
    allowNegative: true,
    options: {
      rounds: { type: 'string' },
      duration: { type: 'string' },
      concurrency: { type: 'string' },
      targets: { type: 'string' },
      'ttfb-requests': { type: 'string' },
      warmup: { type: 'string' },
      slices: { type: 'string' },
      'slice-seconds': { type: 'string' },
      quick: { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      pin: { type: 'boolean', default: true },
      out: { type: 'string' },
      'semantic-index': { type: 'boolean', default: false },
      'index-entries': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return void console.log(USAGE);

  // Ctrl-C mid-run must not leave a backend or gateway holding a port.
  const onSignal = (sig: NodeJS.Signals): void => {
    console.error(`\n${sig}: stopping children`);
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const result = await run({
      rounds: values.quick ? 1 : num(values.rounds, 'BENCH_ROUNDS', 3),
      duration: values.quick ? 2 : num(values.duration, 'BENCH_DURATION', 5),
      concurrency: num(values.concurrency, 'BENCH_CONCURRENCY', 32),
      targets: targets(values.targets ?? process.env['BENCH_TARGETS']),
      ttfbRequests: num(values['ttfb-requests'], 'BENCH_TTFB_REQUESTS', values.quick ? 50 : 200),
      pin: values.pin,
      slices: values.quick ? 0 : values.slices === '0' ? 0 : num(values.slices, 'BENCH_SLICES', 10),
      sliceSeconds: num(values['slice-seconds'], 'BENCH_SLICE_SECONDS', 2),
      ...(values.warmup === undefined ? {} : { warmup: Number(values.warmup) }),
      ...(values.out === undefined ? {} : { output: values.out }),
    });
    console.log(`\n${result.table}`);
    if (values['semantic-index']) {
      console.log('\nsemantic index at scale (bench/semantic-index.ts):');
      const checks = await semanticIndexChecks(num(values['index-entries'], 'BENCH_INDEX_ENTRIES', 100_000));
      for (const c of checks) console.log(`  ${c.name}: ${Number(c.value.toFixed(4))} (target ${c.limit}) ${c.pass ? 'PASS' : 'FAIL'}`);
      result.summary.checks.push(...checks);
    }
    const failed = result.summary.checks.filter((c) => !c.pass);
    // Every missed check in one line (some, like the Redis fallbacks, are not rows of the tables).
    if (failed.length > 0) console.log(`\nchecks missed: ${failed.map((c) => `${c.name} ${Number(c.value.toFixed(3))} (target ${c.limit})`).join('; ')}`);
    if (values.strict && (failed.length > 0 || Object.keys(result.skipped).length > 0)) process.exitCode = 1;
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
