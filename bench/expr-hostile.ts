/**
 * The expression sandbox under hostile documents: each corpus entry is evaluated in its own child
 * process with a 384 MB heap (as the gateway might run), and the report gives the wall time of the
 * evaluation (the event-loop stall it causes), the heap growth, and how it ended (a result, a
 * coded limit, or the process dying). Also a micro-benchmark of the seed policies' expressions, so a
 * change to the budget can show it did not make ordinary expressions dearer.
 *
 *   node bench/expr-hostile.ts            # whole corpus + seed micro-benchmark
 *   node bench/expr-hostile.ts --seeds    # only the micro-benchmark
 * @module
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HOSTILE } from '../src/expressions/hostile-corpus.ts';
import { compileExpression } from '../src/expressions/index.ts';
import { makeContext } from '../src/expressions/test-support.ts';

const self = fileURLToPath(import.meta.url);
const POS = { file: 'bench.xml', line: 1, col: 1 };

function one(name: string): void {
  const entry = HOSTILE.find((h) => h.name === name);
  if (entry === undefined) throw new Error(`no corpus entry ${name}`);
  const expr = compileExpression(entry.src, POS);
  const ctx = makeContext();
  globalThis.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  let outcome: string;
  try {
    const v = expr.evaluate(ctx);
    outcome = typeof v === 'string' ? `string(${v.length})` : `value`;
  } catch (err) {
    const e = err as { exception?: string; message: string };
    outcome = e.exception ?? e.message;
  }
  const ms = performance.now() - t0;
  const heapMb = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
  process.stdout.write(`${JSON.stringify({ ms, heapMb, outcome })}\n`);
}

function corpus(): void {
  console.log('| expression | stall ms | heap growth MB | outcome |');
  console.log('|---|---:|---:|---|');
  for (const h of HOSTILE) {
    const r = spawnSync(process.execPath, ['--max-old-space-size=384', '--expose-gc', self, '--one', h.name], { encoding: 'utf8', timeout: 120_000 });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.status !== 0 || line === '') {
      const why = r.error !== undefined ? 'timed out (>120 s)' : `process died (${r.signal ?? `exit ${String(r.status)}`}${/heap out of memory/i.test(r.stderr) ? ', heap out of memory' : ''})`;
      console.log(`| ${h.name} | - | - | ${why} |`);
      continue;
    }
    const x = JSON.parse(line) as { ms: number; heapMb: number; outcome: string };
    console.log(`| ${h.name} | ${x.ms.toFixed(1)} | ${x.heapMb.toFixed(1)} | ${x.outcome} |`);
  }
}

/** Expressions of the seed documents (test/fixtures/seed-policies), evaluated in a tight loop. */
const SEEDS: readonly string[] = [
  '@(context.Subscription.Id)',
  '@("token-usage-" + context.Subscription.Id)',
  '@(context.Request.Headers.GetValueOrDefault("X-Agent-Id", "anonymous"))',
  '@(context.Request.MatchedParameters["deployment-id"] == "gpt-4")',
  '@(context.Request.Body.As<JObject>()["messages"].Any(m => m["content"].ToString().Contains("ignore previous instructions")))',
  '@{ var n = context.Variables.GetValueOrDefault<int>("attempt", 0); var backends = new [] { "a", "b", "c" }; return backends[n % backends.Length]; }',
  '@(String.Join(",", context.Request.Body.As<JObject>()["messages"].Select(m => m["role"].ToString()).ToArray()))',
];

function seeds(): void {
  const ctx = makeContext();
  console.log('| seed expression | ns per evaluation |');
  console.log('|---|---:|');
  for (const src of SEEDS) {
    const e = compileExpression(src, POS);
    for (let i = 0; i < 20_000; i++) e.evaluate(ctx);
    const rounds = 5;
    let best = Infinity;
    for (let r = 0; r < rounds; r++) {
      const n = 50_000;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) e.evaluate(ctx);
      best = Math.min(best, ((performance.now() - t0) * 1e6) / n);
    }
    console.log(`| \`${src.length > 70 ? `${src.slice(0, 67)}...` : src}\` | ${best.toFixed(0)} |`);
  }
}

const args = process.argv.slice(2);
if (args[0] === '--one') one(args[1] ?? '');
else {
  if (args[0] !== '--seeds') corpus();
  seeds();
}
