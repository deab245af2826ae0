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
 *   node bench/content-safety.ts [--slices 10] [--slice-seconds 2] [--concurrency 16] [--instances 1] [--no-pin]
 *     [--pii redact|off] [--prompt pii|plain|unique|conversation] [--with-none] [--with-pii-off] [--with-memo-off] [--old-root <checkout>] [--no-throughput] [--no-stream] [--stream-runs 5]
 *     [--profile <dir>] [--trace-gc]
 *
 * The throughput baseline is the same chain without the policy (the API keeps a policy document
 * with only <base />); `--with-none` adds a gateway with no document for reference,
 * `--with-pii-off` the content-safety gateway without PII redaction (what redaction costs),
 * `--with-memo-off` the content-safety gateway without its memo of texts seen before, and
 * `--old-root` runs an older build's content-safety gateway in the same slices (A/B of a change).
 * `--instances N` starts every gateway N times (separate processes, every one gets a slice per
 * cycle): a process keeps a speed of its own for its whole life, so a target's figures are the
 * sums over its processes, and the spread between them is printed. The default slices (cycles)
 * are 10 divided by N, so a run takes about as long whatever N (bench/metering.ts does the same).
 * `--profile <dir>` makes every gateway write a V8 CPU profile there when it stops (the targets
 * under the same alternating load, so their profiles compare); `--trace-gc` makes each gateway
 * log its collections (`--trace-gc-nvp`), summed over the slices per request: bytes allocated,
 * promoted to the old generation, pause time.
 * Each gateway line gives req/s, CPU µs per request (utime+stime ÷ requests; the system part from
 * /proc) and peak RSS (VmHWM), with the machine's load average; against its base, the ratio of
 * the sums and the medians of the per-cycle pairs (CPU difference, requests/s ratio), which a
 * slice spoiled by other load on the machine moves less.
 *
 * Loopback only. Numbers are printed, and the checks say PASS or FAIL; nothing here is a test.
 */
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuReader, killAllSync, pinSelf, startChild, stopAll, waitReady } from './children.ts';
import { load } from './measure.ts';
import { spread } from './report.ts';
import { alternatingSlices, peakRssOf, renderInstances } from './slices.ts';
import { BENCH_KEY, freePort, readCounters, startTollgate, type Tollgate, type Variant } from './tollgate-target.ts';
import { loadConfigObject } from '../src/config/load.ts';
import { startGateway } from '../src/gateway/gateway.ts';
import { createLogger } from '../src/observability/logger.ts';
import { startSimulator } from '../src/simulator/index.ts';
import { detectInjection, detectInjectionReadingAll } from '../src/content-safety/injection.ts';
import { findPii, PII_TYPES } from '../src/content-safety/pii.ts';
import { LocalEngine } from '../src/content-safety/local.ts';
import { promptParts } from '../src/content-safety/text.ts';

const { values } = parseArgs({
  options: {
    slices: { type: 'string' },
    /** Processes per gateway; one by default, as bench/metering.ts (docs/performance.md, "Per-process variance"). */
    instances: { type: 'string', default: '1' },
    'slice-seconds': { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '16' },
    'no-pin': { type: 'boolean', default: false },
    /** `redact` (default): the prompt's e-mail and phone are redacted and the body re-serialised; `off`: injection heuristics only. */
    pii: { type: 'string', default: 'redact' },
    /**
     * `pii` (default): the prompt holds an e-mail and a phone number, redacted on every request; `plain`: the same prompt without
     * them (scanned, nothing to redact). Both are the same text on every request: after the first, a text the engine has seen
     * (its memo). `unique`: the pii prompt with a number of its own per request, never seen before; `conversation`: a system
     * prompt and two earlier turns, the same every request, and a new user message per request.
     */
    prompt: { type: 'string', default: 'pii' },
    /** Skip the stream hold-back part. */
    'no-stream': { type: 'boolean', default: false },
    /** Skip the throughput part. */
    'no-throughput': { type: 'boolean', default: false },
    /** Also run the content-safety gateway with `pii: { action: off }` (heuristics only, no redaction): splits the cost in one run. */
    'with-pii-off': { type: 'boolean', default: false },
    /** Also run the content-safety gateway with `memoChars: 0` (every text scanned on every request): what the memo saves. */
    'with-memo-off': { type: 'boolean', default: false },
    /** Also run a gateway with no policy document at all (reference). */
    'with-none': { type: 'boolean', default: false },
    /** A checkout of an older build (with node_modules): its content-safety gateway joins the slices. */
    'old-root': { type: 'string' },
    /** Stream hold-back runs (each: one plain and one guarded stream). */
    'stream-runs': { type: 'string', default: '5' },
    /** Every gateway writes a V8 CPU profile to this directory when it stops. */
    profile: { type: 'string' },
    /** Every gateway logs its garbage collections (`--trace-gc-nvp`); per request sums are printed. */
    'trace-gc': { type: 'boolean', default: false },
  },
});
const INSTANCES = Number(values.instances);
if (!Number.isInteger(INSTANCES) || INSTANCES < 1) throw new Error(`--instances must be a whole number ≥ 1, got ${values.instances}`);
// Every process gets a slice per cycle: more processes, fewer cycles, about the same run time.
const CYCLES = Number(values.slices ?? Math.max(2, Math.round(10 / INSTANCES)));
const SLICE_S = Number(values['slice-seconds']);
const CONCURRENCY = Number(values.concurrency);
const REPO = join(import.meta.dirname, '..');
const PROFILE_FLAGS = values.profile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', resolve(values.profile)];
const GC_FLAGS = values['trace-gc'] === true ? ['--trace-gc-nvp'] : [];

const PROMPTS = ['pii', 'plain', 'unique', 'conversation'] as const;
if (!(PROMPTS as readonly string[]).includes(values.prompt)) throw new Error(`--prompt must be one of ${PROMPTS.join(', ')}, got ${values.prompt}`);
/** The customer's contact details: personal data the local engine redacts, or (`--prompt plain`) words of the same length that are none. */
const CONTACT = values.prompt === 'plain' ? 'a loyal customer since the spring sale' : 'jane.doe@example.com, +44 20 7946 0958';
/** `--prompt unique`: the user's text carries a number of its own per request (wrk.ts: "[<id>]"), so it is never a text seen before. */
const TICKET = values.prompt === 'unique' ? ' (ticket [<id>])' : '';
const PROMPT =
  `You are a helpful assistant for the billing team. A customer, Jane Doe (${CONTACT})${TICKET}, ` +
  'writes: "I was charged twice for my March subscription and would like one of the two payments refunded. ' +
  'My account number is 88-1023 and the second charge appeared on the 14th. Could you also tell me how to ' +
  'change the card on file and whether annual billing is cheaper?" Draft a friendly, concise reply that explains ' +
  'the refund timeline, the steps to update the payment method, and compares monthly and annual plans.';
/**
 * `--prompt conversation`: the shape of a chat application's request, a system prompt and the
 * earlier turns re-sent (the same text every request) and one new user message (new every request).
 */
const CONVERSATION = [
  { role: 'system', content: 'Answer as the billing team of Contoso. Be concise and friendly, never promise a refund before the payments team confirms it, and escalate disputes over 500 EUR to billing-escalations@contoso.example.' },
  { role: 'user', content: PROMPT },
  { role: 'assistant', content: 'Hi Jane, thanks for reaching out and sorry for the double charge. I have asked the payments team to refund the second March payment; refunds reach your card within 5 to 7 business days. To change the card on file, open Settings, then Billing, then Payment method, and choose Replace card. Annual billing costs the same as ten monthly payments, so it saves you two months a year.' },
  { role: 'user', content: 'Thanks! Could you confirm the refund for request [<id>] went through, and whether I can switch to annual billing today?' },
];
const PROMPT_LABEL: Record<(typeof PROMPTS)[number], string> = {
  pii: 'with an e-mail and a phone number, the same every request',
  plain: 'without personal data, the same every request',
  unique: 'with an e-mail and a phone number, new every request',
  conversation: 'a system prompt and two earlier turns with personal data, the same every request, and a new user message',
};
const BODY = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: values.prompt === 'conversation' ? CONVERSATION : [{ role: 'system', content: 'Answer as the billing team.' }, { role: 'user', content: PROMPT }],
});
const BASE_POLICY = '<policies><inbound><base /></inbound></policies>';
const GUARD_POLICY = '<policies><inbound><base /><llm-content-safety backend-id="guard" shield-prompt="true" /></inbound></policies>';
/** The local engine's config; `memo: false` sets `memoChars: 0`. */
const guardYaml = (memo = true): string =>
  `contentSafety:\n  engines:\n    guard: { type: local, pii: { action: ${values.pii === 'off' ? 'off' : 'redact'} }${memo ? '' : ', memoChars: 0'} }\n`;
const GUARD_YAML = guardYaml();

/** One gateway of the alternating slices: its config variant, and the checkout it runs from. */
interface Target {
  readonly name: string;
  readonly variant: Variant;
  readonly root: string;
}

/**
 * The targets: `base` is the same chain without the policy (the API keeps a policy document, so
 * the only difference is the `llm-content-safety` element) and the check's baseline; `none` has
 * no policy document at all, for reference; `content-safety` has the policy. With `--old-root`
 * (a checkout of an older commit, node_modules beside it) both configs of that build run as
 * `base@old` and `content-safety@old`, so a change is measured A/B in the same run.
 */
function targets(): Target[] {
  const out: Target[] = [
    { name: 'base', variant: { policy: BASE_POLICY }, root: REPO },
    { name: 'content-safety', variant: { policy: GUARD_POLICY, extraYaml: GUARD_YAML }, root: REPO },
  ];
  if (values['with-pii-off'] === true) {
    out.push({ name: 'content-safety/pii-off', variant: { policy: GUARD_POLICY, extraYaml: 'contentSafety:\n  engines:\n    guard: { type: local, pii: { action: off } }\n' }, root: REPO });
  }
  if (values['with-memo-off'] === true) {
    out.push({ name: 'content-safety/memo-off', variant: { policy: GUARD_POLICY, extraYaml: guardYaml(false) }, root: REPO });
  }
  if (values['with-none'] === true) out.unshift({ name: 'none', variant: {}, root: REPO });
  const old = values['old-root'];
  if (old !== undefined) {
    out.push({ name: 'base@old', variant: { policy: BASE_POLICY }, root: old });
    out.push({ name: 'content-safety@old', variant: { policy: GUARD_POLICY, extraYaml: GUARD_YAML }, root: old });
  }
  return out;
}

async function throughput(): Promise<void> {
  process.once('exit', killAllSync);
  const unpin = values['no-pin'] ? undefined : pinSelf('0');
  // freePort: inside BENCH_PORTS when it is set, like the gateways' ports.
  const backend = startChild('backend', [join(import.meta.dirname, 'fixed-backend.ts'), String(await freePort())], REPO, unpin ? '0' : undefined);
  const backendPort = await waitReady(backend, 10_000);
  const gateways: Array<{ name: string; label: string; gw: Tollgate }> = [];
  try {
    // Instance-major (each target's first process, then each one's second, ...), so drift within a cycle hits the targets alike.
    for (let i = 0; i < INSTANCES; i++) {
      for (const t of targets()) {
        const label = INSTANCES === 1 ? t.name : `${t.name}#${i + 1}`;
        gateways.push({ name: t.name, label, gw: await startTollgate(t.root, backendPort, unpin ? '1' : undefined, { ...t.variant, nodeFlags: [...PROFILE_FLAGS, ...GC_FLAGS] }, label) });
      }
    }
    const live = await Promise.all(gateways.map(async (g) => ({ name: g.name, label: g.label, origin: `http://127.0.0.1:${g.gw.port}`, cpu: await cpuReader(g.gw.child) })));
    const names = [...new Set(live.map((t) => t.name))];
    for (const t of live) {
      const warm = await load(t.origin, BENCH_KEY, CONCURRENCY, 2, BODY);
      if (warm.non2xx > 0 || warm.errors > 0) throw new Error(`${t.label}: ${warm.non2xx} non-2xx, ${warm.errors} errors in the warm-up`);
    }
    const gc = new Map(gateways.map((g) => [g.label, gcCounter(g.gw)]));
    const load1 = loadavg()[0] ?? 0;
    const result = await alternatingSlices(live, { cycles: CYCLES, sliceS: SLICE_S, concurrency: CONCURRENCY, apiKey: BENCH_KEY, body: BODY }, (line) => console.log(line));
    /** A target's requests in each cycle, summed over its processes. */
    const requests = (n: string): number[] => result.perCycle.map((c) => c[n] ?? 0);
    const sum = (n: string): number => requests(n).reduce((a, b) => a + b, 0);
    const per = (n: string): number => result.cpuUsPerReq[n] ?? Number.NaN;
    const sys = (n: string): number => result.sysUsPerReq[n] ?? Number.NaN;
    // Per cycle, the CPU µs per request of a target minus its reference's: the median of these
    // pairs shrugs off a slice that other load on the machine spoiled (the sums above do not).
    const pairedCpu = (n: string, base: string): number => median(result.perCycleCpu.map((c) => (c[n] ?? Number.NaN) - (c[base] ?? Number.NaN)));
    const each = (n: string, base: string): number[] => requests(n).map((v, i) => v / (requests(base)[i] ?? Number.NaN));
    console.log(`machine load average (1 min): ${load1.toFixed(1)} at the start, ${(loadavg()[0] ?? 0).toFixed(1)} at the end (${cpus().length} CPUs)`);
    for (const name of names) {
      const ref = name.endsWith('@old') ? 'base@old' : 'base';
      const rel = name === ref ? '' : `; vs ${ref} ${(sum(name) / sum(ref)).toFixed(3)}× requests/s (per-cycle ${Math.min(...each(name, ref)).toFixed(2)}–${Math.max(...each(name, ref)).toFixed(2)}), CPU ${per(name) >= per(ref) ? '+' : ''}${(per(name) - per(ref)).toFixed(1)} µs (${((per(name) / per(ref) - 1) * 100).toFixed(1)} %; median of per-cycle pairs ${pairedCpu(name, ref).toFixed(1)} µs), median per-cycle requests/s ratio ${median(each(name, ref)).toFixed(3)}`;
      console.log(`  ${name}: ${(result.rps[name] ?? Number.NaN).toFixed(0)} req/s, ${per(name).toFixed(1)} CPU µs/request (${(per(name) - sys(name)).toFixed(1)} user, ${sys(name).toFixed(1)} system), peak RSS ${peakRssOf(live, name)?.toFixed(0) ?? '?'} MB${rel}`);
      if (values['trace-gc'] === true) {
        const g = sumGc(live.filter((l) => l.name === name).map((l) => gc.get(l.label) ?? sumGc([])));
        const n = sum(name);
        console.log(`    GC per request: ${(g.allocated / n).toFixed(0)} B allocated, ${(g.promoted / n).toFixed(0)} B promoted, ${(g.survived / n).toFixed(0)} B survived a scavenge, ${((g.pauseMs * 1000) / n).toFixed(1)} µs paused (${g.scavenges} scavenges, ${g.markCompacts} mark-compacts)`);
      }
    }
    const instances = result.instances;
    const perProcess = renderInstances(instances);
    if (perProcess.length > 0) console.log(`  per process of a target (identical code and config: the spread is the process's own speed):\n${perProcess.map((l) => `  ${l}`).join('\n')}`);
    if (values.profile !== undefined) {
      // A profile covers the gateway's whole life: its request count (warm-up included) turns it into µs per request.
      for (const g of gateways) console.log(`  ${g.label}: pid ${g.gw.child.pid}, ${(await readCounters(g.gw.admin)).requests ?? '?'} requests in its profile`);
    }
    const ratio = sum('content-safety') / sum('base');
    console.log(`check: content-safety requests/s ≥ 0.90× the same chain without it: ${ratio.toFixed(3)}× ${ratio >= 0.9 ? 'PASS' : 'FAIL'}`);
  } finally {
    for (const g of gateways) await g.gw.cleanup();
    await stopAll();
    unpin?.();
    process.off('exit', killAllSync);
  }
}

interface GcSums {
  allocated: number;
  promoted: number;
  survived: number;
  pauseMs: number;
  scavenges: number;
  markCompacts: number;
}

function sumGc(each: readonly GcSums[]): GcSums {
  const total: GcSums = { allocated: 0, promoted: 0, survived: 0, pauseMs: 0, scavenges: 0, markCompacts: 0 };
  for (const g of each) for (const k of Object.keys(total) as Array<keyof GcSums>) total[k] += g[k];
  return total;
}

/** Sums the gateway's `--trace-gc-nvp` lines (on its stdout) from now on. */
function gcCounter(gw: Tollgate): GcSums {
  const sums: GcSums = { allocated: 0, promoted: 0, survived: 0, pauseMs: 0, scavenges: 0, markCompacts: 0 };
  let buf = '';
  gw.child.proc.stdout?.on('data', (b: Buffer) => {
    buf += b.toString('utf8');
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const line of lines) {
      const field = (k: string): number => Number(new RegExp(`\\b${k}=([\\d.]+)`).exec(line)?.[1] ?? 0);
      if (!line.includes(' gc=')) continue;
      if (/ gc=s /.test(line)) sums.scavenges++;
      else sums.markCompacts++;
      sums.allocated += field('allocated');
      sums.promoted += field('promoted');
      sums.survived += field('new_space_survived');
      sums.pauseMs += field('pause');
    }
  });
  return sums;
}

/** The median (report.ts's spread: finite values only), NaN when there is none. */
function median(xs: readonly number[]): number {
  return spread([...xs])?.median ?? Number.NaN;
}

/** µs per call of `f`, over `runs` calls after `warm` unmeasured ones. */
function usPerCall(f: () => unknown, runs: number, warm = 1000): number {
  for (let i = 0; i < warm; i++) f();
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) f();
  return ((performance.now() - t0) * 1000) / runs;
}

function engineAlone(): void {
  const types = new Set(PII_TYPES);
  const N = 20_000;
  const inj = usPerCall(() => detectInjection(PROMPT), N);
  const pii = usPerCall(() => findPii(PROMPT, types), N);
  // What the policy does per request, on a freshly parsed body (as the gateway has it): the
  // prompt's pieces, redaction (which updates them), the body re-serialised, the check of the redacted pieces.
  // Without the memo (every text scanned), then with it (the same body every time: every text seen before).
  const rules = { thresholds: new Map(), outputType: 'FourSeverityLevels', blocklists: [], shieldPrompt: true } as const;
  const bodyBytes = Buffer.from(BODY.replaceAll('[<id>]', '1'));
  const policyPath = (engine: LocalEngine) => (): unknown => {
    const json = JSON.parse(bodyBytes.toString('utf8')) as Record<string, unknown>;
    const parts = promptParts(json);
    if (engine.redact(parts) > 0) Buffer.from(JSON.stringify(json));
    return engine.checkPromptNow(parts, rules);
  };
  const engine = (memoChars: number): LocalEngine => new LocalEngine({ pii: { types: PII_TYPES, action: 'redact' }, blocklists: {}, memoChars });
  const path = usPerCall(policyPath(engine(0)), N);
  const memoPath = usPerCall(policyPath(engine(1_000_000)), N);
  const parse = usPerCall(() => JSON.parse(bodyBytes.toString('utf8')), N, 0);
  // A long document with one link: the link looks like words taken apart, so the squashed search
  // runs; near its evidence only, against the whole text as it was (docs/content-safety.md).
  const doc = `${'The quarterly report shows that revenue grew in every region, with the strongest gains in the northern markets. '.repeat(150)}Source: https://intranet.contoso.example/reports/q3-summary.html`;
  const near = usPerCall(() => detectInjection(doc), 2000, 200);
  const readAll = usPerCall(() => detectInjectionReadingAll(doc), 2000, 200);
  console.log(`injection heuristics on a ${(doc.length / 1024).toFixed(0)} KB document with one link: ${near.toFixed(1)} µs (${readAll.toFixed(1)} µs when the squashed search read the whole text)`);
  console.log(
    `engine alone (${PROMPT.length}-character prompt, ${N} runs): injection heuristics ${inj.toFixed(1)} µs, PII scan ${pii.toFixed(1)} µs; ` +
      `the policy's work on a freshly parsed body (redaction, re-serialisation, check) ${(path - parse).toFixed(1)} µs, ${(memoPath - parse).toFixed(1)} µs with the memo (texts seen before)`,
  );
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
  const runs = Number(values['stream-runs']);
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
  // Per run (plain and guarded back to back): how much later than the window's own arrival the guarded first byte came.
  const beyond = g.map((x, i) => x.first - (p[i]?.window ?? Number.NaN));
  console.log(`hold-back beyond the window (guarded first byte − the plain stream's first window, per run): median ${med(beyond).toFixed(0)} ms [${beyond.map((b) => b.toFixed(0)).join(', ')}]`);
  console.log(`check: guarded first byte ≤ plain first window × 1.2: ${guardedFirst <= plainWindow * 1.2 ? 'PASS' : 'FAIL'} (added ${(guardedFirst - plainFirst).toFixed(0)} ms)`);
  await plain.close(100);
  await guarded.close(100);
  await sim.close();
}

console.log(`# content-safety benchmark (${CYCLES} cycles × ${SLICE_S} s${INSTANCES === 1 ? '' : ` per gateway process, ${INSTANCES} processes per gateway`}, concurrency ${CONCURRENCY}, pii ${values.pii === 'off' ? 'off' : 'redact'}, prompt: ${PROMPT_LABEL[values.prompt as (typeof PROMPTS)[number]]})`);
engineAlone();
if (values['no-throughput'] !== true) await throughput();
if (values['no-stream'] !== true) await holdBack();
