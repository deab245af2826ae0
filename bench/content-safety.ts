/**
 * What `llm-content-safety` with the local engine costs (docs/content-safety.md):
 *
 * 1. requests/s and gateway CPU per request of the same gateway config with and without the
 *    policy (local engine: shield-prompt heuristics and PII redaction of a realistic prompt
 *    with an e-mail and a phone number), in alternating slices (A B, B A, ...; per bench/slices.ts's
 *    reasoning: drift slower than a cycle hits both alike). Gateways are child processes pinned
 *    to CPU 1, the fixed backend and the load generator to CPU 0. Check: ≥ 0.90× requests/s.
 * 2. the engine alone, in process: µs per prompt.
 * 3. the stream hold-back: first-byte time of a paced stream (the simulator at 200 tokens/s)
 *    with and without enforce-on-completions, against the time the first window (1,000
 *    characters) of the unguarded stream took to arrive. Check: the guarded first byte comes no
 *    later than the unguarded stream's first window plus 20 %.
 *
 *   node bench/content-safety.ts [--slices 10] [--slice-seconds 2] [--concurrency 16] [--no-pin]
 *
 * Loopback only. Numbers are printed, and the checks say PASS or FAIL; nothing here is a test.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuReader, killAllSync, pinSelf, startChild, stopAll, waitReady } from './children.ts';
import { load } from './measure.ts';
import { BENCH_KEY, startTollgate, type Tollgate } from './tollgate-target.ts';
import { loadConfigObject } from '../src/config/load.ts';
import { startGateway } from '../src/gateway/gateway.ts';
import { createLogger } from '../src/observability/logger.ts';
import { startSimulator } from '../src/simulator/index.ts';
import { detectInjection } from '../src/content-safety/injection.ts';
import { findPii, PII_TYPES } from '../src/content-safety/pii.ts';

const { values } = parseArgs({
  options: {
    slices: { type: 'string', default: '10' },
    'slice-seconds': { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '16' },
    'no-pin': { type: 'boolean', default: false },
    /** `redact` (default): the prompt's e-mail and phone are redacted and the body re-serialised; `off`: injection heuristics only. */
    pii: { type: 'string', default: 'redact' },
    /** Skip the stream hold-back part. */
    'no-stream': { type: 'boolean', default: false },
  },
});
const CYCLES = Number(values.slices);
const SLICE_S = Number(values['slice-seconds']);
const CONCURRENCY = Number(values.concurrency);
const REPO = join(import.meta.dirname, '..');

const PROMPT =
  'You are a helpful assistant for the billing team. A customer, Jane Doe (jane.doe@example.com, +44 20 7946 0958), ' +
  'writes: "I was charged twice for my March subscription and would like one of the two payments refunded. ' +
  'My account number is 88-1023 and the second charge appeared on the 14th. Could you also tell me how to ' +
  'change the card on file and whether annual billing is cheaper?" Draft a friendly, concise reply that explains ' +
  'the refund timeline, the steps to update the payment method, and compares monthly and annual plans.';
const BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'Answer as the billing team.' }, { role: 'user', content: PROMPT }] });
const GUARD_POLICY = '<policies><inbound><base /><llm-content-safety backend-id="guard" shield-prompt="true" /></inbound></policies>';
const GUARD_YAML = `contentSafety:\n  engines:\n    guard: { type: local, pii: { action: ${values.pii === 'off' ? 'off' : 'redact'} } }\n`;

async function throughput(): Promise<void> {
  process.once('exit', killAllSync);
  const unpin = values['no-pin'] ? undefined : pinSelf('0');
  const backend = startChild('backend', [join(import.meta.dirname, 'fixed-backend.ts'), '0'], REPO, unpin ? '0' : undefined);
  const backendPort = await waitReady(backend, 10_000);
  const gateways: Array<{ name: string; gw: Tollgate }> = [];
  try {
    gateways.push({ name: 'plain', gw: await startTollgate(REPO, backendPort, unpin ? '1' : undefined, {}, 'plain') });
    gateways.push({ name: 'content-safety', gw: await startTollgate(REPO, backendPort, unpin ? '1' : undefined, { policy: GUARD_POLICY, extraYaml: GUARD_YAML }, 'content-safety') });
    const targets = await Promise.all(gateways.map(async (g) => ({ name: g.name, origin: `http://127.0.0.1:${g.gw.port}`, cpu: await cpuReader(g.gw.child) })));
    for (const t of targets) {
      const warm = await load(t.origin, BENCH_KEY, CONCURRENCY, 2, BODY);
      if (warm.non2xx > 0 || warm.errors > 0) throw new Error(`${t.name}: ${warm.non2xx} non-2xx, ${warm.errors} errors in the warm-up`);
    }
    const requests: Record<string, number[]> = {};
    const cpuUs: Record<string, number> = {};
    for (let c = 0; c < CYCLES; c++) {
      const order = c % 2 === 0 ? targets : [...targets].reverse();
      for (const t of order) {
        const before = await t.cpu.read();
        const r = await load(t.origin, BENCH_KEY, CONCURRENCY, SLICE_S, BODY);
        const after = await t.cpu.read();
        (requests[t.name] ??= []).push(r.requests);
        cpuUs[t.name] = (cpuUs[t.name] ?? 0) + after - before;
      }
      console.log(`  slice ${c + 1}/${CYCLES}: ${targets.map((t) => `${t.name} ${Math.round((requests[t.name]?.at(-1) ?? 0) / SLICE_S)} req/s`).join(', ')}`);
    }
    const sum = (n: string): number => (requests[n] ?? []).reduce((a, b) => a + b, 0);
    const per = (n: string): number => (cpuUs[n] ?? 0) / sum(n);
    const each = (requests['content-safety'] ?? []).map((v, i) => v / (requests['plain']?.[i] ?? Number.NaN));
    const ratio = sum('content-safety') / sum('plain');
    console.log(`requests/s: plain ${(sum('plain') / (CYCLES * SLICE_S)).toFixed(0)}, content-safety ${(sum('content-safety') / (CYCLES * SLICE_S)).toFixed(0)}`);
    console.log(`gateway CPU µs/request: plain ${per('plain').toFixed(1)}, content-safety ${per('content-safety').toFixed(1)} (+${(per('content-safety') - per('plain')).toFixed(1)} µs, ${((per('content-safety') / per('plain') - 1) * 100).toFixed(1)} %)`);
    console.log(`check: content-safety requests/s ≥ 0.90× plain: ${ratio.toFixed(3)}× (per-cycle ${Math.min(...each).toFixed(2)}–${Math.max(...each).toFixed(2)}) ${ratio >= 0.9 ? 'PASS' : 'FAIL'}`);
  } finally {
    for (const g of gateways) await g.gw.cleanup();
    await stopAll();
    unpin?.();
    process.off('exit', killAllSync);
  }
}

function engineAlone(): void {
  const types = new Set(PII_TYPES);
  const N = 20_000;
  for (let i = 0; i < 1000; i++) {
    detectInjection(PROMPT);
    findPii(PROMPT, types);
  }
  let t = performance.now();
  for (let i = 0; i < N; i++) detectInjection(PROMPT);
  const inj = ((performance.now() - t) * 1000) / N;
  t = performance.now();
  for (let i = 0; i < N; i++) findPii(PROMPT, types);
  const pii = ((performance.now() - t) * 1000) / N;
  console.log(`engine alone (${PROMPT.length}-character prompt, ${N} runs): injection heuristics ${inj.toFixed(1)} µs, PII scan ${pii.toFixed(1)} µs`);
}

async function holdBack(): Promise<void> {
  const sim = await startSimulator({ name: 'paced', tokensPerSecond: 200, defaultCompletionTokens: 400 });
  const gateway = async (policy?: string): Promise<Awaited<ReturnType<typeof startGateway>>> =>
    startGateway(
      loadConfigObject({
        gateway: { listen: '127.0.0.1:0' },
        admin: { enabled: false },
        log: { level: 'warn' },
        backends: { sim: { url: `${sim.url}/openai` } },
        apis: { openai: { path: '', type: 'openai', backend: 'sim', ...(policy !== undefined && { policies: policy }) } },
        products: { p: { apis: ['openai'] } },
        subscriptions: { s: { product: 'p', keys: [BENCH_KEY] } },
        contentSafety: { engines: { guard: { type: 'local' } } },
      }),
      { logger: createLogger('warn'), defaultMetrics: false },
    );
  const plain = await gateway();
  const guarded = await gateway('<policies><inbound><base /><llm-content-safety backend-id="guard" shield-prompt="true" enforce-on-completions="true" /></inbound></policies>');
  const time = async (url: string): Promise<{ first: number; window: number }> => {
    const t0 = performance.now();
    const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'api-key': BENCH_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'Tell me a long story.' }] }) });
    let first = -1;
    let window = -1;
    let chars = 0;
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      if (first < 0) first = performance.now() - t0;
      buf += Buffer.from(chunk).toString('utf8');
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const ev = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = ev.startsWith('data: ') ? ev.slice(6) : '';
        if (data === '' || data === '[DONE]') continue;
        const parsed = JSON.parse(data) as { choices: Array<{ delta?: { content?: string } }> };
        chars += parsed.choices[0]?.delta?.content?.length ?? 0;
        if (window < 0 && chars >= 1000) window = performance.now() - t0;
      }
    }
    return { first, window };
  };
  const runs = 5;
  const p: Array<{ first: number; window: number }> = [];
  const g: Array<{ first: number; window: number }> = [];
  for (let i = 0; i < runs; i++) {
    p.push(await time(plain.url));
    g.push(await time(guarded.url));
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const plainFirst = med(p.map((x) => x.first));
  const plainWindow = med(p.map((x) => x.window));
  const guardedFirst = med(g.map((x) => x.first));
  console.log(`stream hold-back (200 tokens/s, window 1,000 characters, median of ${runs}): first byte plain ${plainFirst.toFixed(0)} ms, guarded ${guardedFirst.toFixed(0)} ms; the plain stream's first 1,000 characters arrived at ${plainWindow.toFixed(0)} ms`);
  console.log(`check: guarded first byte ≤ plain first window × 1.2: ${guardedFirst <= plainWindow * 1.2 ? 'PASS' : 'FAIL'} (added ${(guardedFirst - plainFirst).toFixed(0)} ms)`);
  await plain.close(100);
  await guarded.close(100);
  await sim.close();
}

console.log(`# content-safety benchmark (${CYCLES} cycles × ${SLICE_S} s, concurrency ${CONCURRENCY}, pii ${values.pii === 'off' ? 'off' : 'redact'})`);
engineAlone();
await throughput();
if (values['no-stream'] !== true) await holdBack();
