/**
 * The APIM corpus harness: loads every real-world policy document of a directory (the layout of
 * test/fixtures/apim-policies/, see its README) through the gateway and serves one chat request
 * through each against the simulator, then classifies each document:
 *
 * - load: `loaded`, or a load error grouped by cause (the message with names and positions removed);
 * - serve (loaded documents only): `answered` (any 2xx–4xx, a document's own deliberate 4xx
 *   included), `excused` (the request needed something a test machine cannot give: a host
 *   outside the machine, an identity, or a variable only an includer sets), or a gateway fault
 *   grouped by cause.
 *
 * Used by test/e2e/apim-corpus.test.ts (floors) and scripts/apim-corpus.ts (report for any directory).
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { loadConfigObject, ConfigError } from '../../src/config/load.ts';
import { startGateway } from '../../src/gateway/gateway.ts';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { GUID, fragmentTable, readCorpus, type CorpusDoc } from './apim-corpus-docs.ts';

export { fillPlaceholders, fragmentTable, readCorpus, type CorpusDoc } from './apim-corpus-docs.ts';

export const CORPUS_KEY = 'corpus-subscription-key-0123456789';

export type ServeOutcome =
  | { readonly kind: 'answered'; readonly status: number }
  | { readonly kind: 'excused'; readonly why: string; readonly detail: string }
  | { readonly kind: 'fault'; readonly cause: string; readonly detail: string };

export interface DocResult {
  readonly file: string;
  readonly kind: 'policies' | 'fragment';
  /** undefined when the document loaded. */
  readonly loadError?: { readonly cause: string; readonly detail: string };
  readonly serve?: ServeOutcome;
  /** What the generated configuration had to stand in for. */
  readonly notes: readonly string[];
}

export interface CorpusReport {
  readonly results: readonly DocResult[];
  readonly total: number;
  readonly loaded: number;
  /** Loaded documents whose request did not end in a gateway fault. */
  readonly served: number;
  readonly loadRate: number;
  readonly serveRate: number;
}

const refs = (text: string, re: RegExp): string[] => [...new Set([...text.matchAll(re)].map((m) => m[1] ?? ''))];

/** A plausible value for a named value, from its name: the documents only need it to be usable. */
function namedValueFor(name: string, simUrl: string): string {
  const n = name.toLowerCase();
  if (/url|endpoint|uri/.test(n)) return simUrl;
  if (/tenant|client-?id|objectid|uami|application/.test(n)) return GUID;
  if (/^(entra-auth|.*enabled|is-.*)$/.test(n)) return 'false';
  if (/version/.test(n)) return '2024-10-21';
  if (/scope/.test(n)) return 'openid profile';
  return `${name}-value`;
}

/** Backend ids a document can name: literal `backend-id`s, and string literals that look like ids of backends or pools. */
function backendIds(text: string): string[] {
  const literal = refs(text, /backend-id="([^"@{][^"]*)"/g);
  const inCode = refs(text, /"([A-Za-z0-9][A-Za-z0-9._-]*(?:backend|pool|payg|ptu)[A-Za-z0-9._-]*)"/gi);
  return [...new Set([...literal, ...inCode])].filter((id) => /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id));
}

/** The section of the first `<include-fragment>` of `id` in the corpus, so a fragment is served where its includers put it. */
function includerSection(docs: readonly CorpusDoc[], id: string, fragment: string): string {
  for (const d of docs) {
    const at = d.text.indexOf(`fragment-id="${id}"`);
    if (at < 0 || d.kind !== 'policies') continue;
    const before = d.text.slice(0, at);
    let best = 'inbound';
    let bestAt = -1;
    for (const s of ['inbound', 'backend', 'outbound', 'on-error']) {
      const i = before.lastIndexOf(`<${s}>`);
      if (i > bestAt) {
        bestAt = i;
        best = s;
      }
    }
    return best;
  }
  // Included nowhere in the corpus: the section its content belongs to.
  if (fragment.includes('<forward-request')) return 'backend';
  if (/context\.Response\b/.test(fragment)) return 'outbound';
  return 'inbound';
}

/** The configuration one document needs: everything it (and the fragments it includes) names. */
export function configFor(
  doc: CorpusDoc,
  docs: readonly CorpusDoc[],
  table: ReadonlyMap<string, string[]>,
  sim: RunningSimulator,
  tmp: string,
  notes: string[] = [],
): Record<string, unknown> {
  const byFile = new Map(docs.map((d) => [d.file, d]));
  const fragments: Record<string, string> = {};
  const texts = [doc.text];
  const pending = refs(doc.text, /fragment-id="([^"]+)"/g);
  while (pending.length > 0) {
    const id = pending.shift() ?? '';
    if (id in fragments) continue;
    const file = table.get(id)?.[0];
    const frag = file === undefined ? undefined : byFile.get(file);
    if (frag === undefined) {
      // Named by a document but not published with the corpus: an empty fragment stands in, so
      // the includer is measured (the report lists the stand-ins).
      fragments[id] = '<fragment></fragment>';
      notes.push(`fragment "${id}" is not in the corpus: an empty one stands in`);
      continue;
    }
    fragments[id] = frag.text;
    texts.push(frag.text);
    pending.push(...refs(frag.text, /fragment-id="([^"]+)"/g));
  }
  let policies = doc.text;
  if (doc.kind === 'fragment') {
    const id = [...table].find(([, files]) => files.includes(doc.file))?.[0] ?? `corpus-${doc.file}`;
    fragments[id] = doc.text;
    const section = includerSection(docs, id, doc.text);
    const sections = ['inbound', 'backend', 'outbound', 'on-error']
      .map((s) => {
        const include = `<include-fragment fragment-id="${id}" />`;
        if (s !== section) return `<${s}><base /></${s}>`;
        // A backend fragment that forwards itself replaces <base/>; one that only picks the backend runs before it.
        if (s === 'backend') return `<backend>${include}${doc.text.includes('forward-request') ? '' : '<base />'}</backend>`;
        return `<${s}><base />${include}</${s}>`;
      })
      .join('');
    policies = `<policies>${sections}</policies>`;
  }
  const all = texts.join('\n');
  const simBackend = { url: `${sim.url}/openai` };
  const backends: Record<string, unknown> = {
    'corpus-member-1': simBackend,
    'corpus-member-2': simBackend,
    'corpus-pool': { type: 'Pool', pool: { services: [{ id: 'corpus-member-1' }, { id: 'corpus-member-2' }] } },
  };
  // Content-safety backends are the simulator's root: it serves /contentsafety/text:analyze there.
  for (const id of refs(all, /<llm-content-safety[^>]*?backend-id="([^"@{][^"]*)"/g)) backends[id] = { url: sim.url };
  for (const id of backendIds(all)) if (!(id in backends)) backends[id] = simBackend;
  const namedValues: Record<string, unknown> = { 'corpus-key': { value: CORPUS_KEY, secret: true } };
  for (const name of refs(all, /\{\{([A-Za-z0-9._-]+)\}\}/g)) namedValues[name] = { value: namedValueFor(name, sim.url) };
  const loggers: Record<string, unknown> = {};
  for (const id of refs(all, /logger-id="([^"@]+)"/g)) loggers[id] = { type: 'file', path: join(tmp, `${id}.jsonl`) };
  return {
    gateway: { listen: '127.0.0.1:0' },
    admin: { enabled: false },
    log: { level: 'warn' },
    namedValues,
    backends,
    apis: { 'azure-openai': { path: 'openai', type: 'openai', backend: 'corpus-pool', policies } },
    products: { corpus: { apis: ['azure-openai'] } },
    subscriptions: { corpus: { product: 'corpus', keys: ['{{corpus-key}}'] } },
    fragments,
    loggers,
    outbound: { allowPrivateNetworks: true },
  };
}

/** A message with its specifics (quoted names, numbers, positions) removed, so like problems group together. */
export function causeOf(message: string): string {
  return message
    .replace(/^[^\s:]+:\d+:\d+: /gm, '')
    .split('\n')[0]!
    .replace(/\(at [^)]*\)/g, '')
    .replace(/"[^"]*"/g, '"…"')
    .replace(/\{\{[^}]*\}\}/g, '{{…}}')
    .replace(/\b\d+\b/g, 'N')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 160);
}

/**
 * What a test machine cannot give (not counted against the gateway): an outside host, an identity,
 * a variable only an includer sets, or a route parameter of an operation this chat request is not.
 * `at` is the failing expression's source line, from the logged position.
 */
function excuse(code: string, message: string, doc: CorpusDoc): string | undefined {
  if (code === 'GW_ERR_MANAGED_IDENTITY' || /managed identity|IDENTITY_ENDPOINT|MSI_ENDPOINT/i.test(message)) return 'needs an identity';
  if (code === 'GW_ERR_SEND_REQUEST_FAILED' || code === 'GW_ERR_BACKEND_UNREACHABLE' || /ENOTFOUND|EAI_AGAIN|getaddrinfo/.test(message)) {
    return 'calls a host outside the machine';
  }
  if (code === 'GW_ERR_BACKEND_ERROR_STATUS' && / answered 4\d\d/.test(message)) return 'its backend path is not on the simulator (fail-on-error-status-code)';
  const pos = /\(at [^)]*:(\d+):(\d+)\)/.exec(message);
  // A fragment that passes a variable it never sets (GetValueOrDefault gives null) to a method that refuses null.
  if (/ArgumentNullException|NullReferenceException/.test(message) && doc.kind === 'fragment') {
    const unset = [...doc.text.matchAll(/Variables\.GetValueOrDefault(?:<[^>]+>)?\("([^"]+)"/g)].some(
      (m) => !doc.text.includes(`name="${m[1]}"`) && !doc.text.includes(`variable-name="${m[1]}"`),
    );
    if (unset) return 'needs a variable its includer sets';
  }
  if (!/KeyNotFoundException/.test(message) || pos === null) return undefined;
  const lines = doc.text.split('\n');
  const offset = lines.slice(0, Number(pos[1]) - 1).reduce((n, l) => n + l.length + 1, 0) + Number(pos[2]) - 1;
  // The indexer that threw: the position points into it (or at the cast just before it).
  const hit = [...doc.text.matchAll(/context\.(Variables|Request\.MatchedParameters|Request\.Headers)\["([^"]+)"\]/g)].find(
    (m) => m.index - 2 <= offset && offset < m.index + m[0].length,
  );
  if (hit?.[1] === 'Request.MatchedParameters') return 'reads a route parameter of another operation';
  // APIM's header dictionary throws on a missing name too: the document expects a header its client sends.
  if (hit?.[1] === 'Request.Headers') return 'reads a request header the smoke request does not send';
  const read = hit?.[2];
  // Set before the element whose expression failed (a set-variable reading its own old value does not count).
  const element = doc.text.lastIndexOf('<set-variable', offset);
  const before = doc.text.slice(0, element < 0 ? offset : element);
  const setBefore = read !== undefined && (before.includes(`name="${read}"`) || before.includes(`variable-name="${read}"`));
  if (doc.kind === 'fragment' && read !== undefined && !setBefore) return 'needs a variable its includer sets';
  // Set only by a cache lookup that missed: the value is cached by an earlier request of the same flow (OAuth consent, say).
  const cachedOnly = read !== undefined && before.includes(`variable-name="${read}"`) && new RegExp(`<cache-lookup-value[^>]*variable-name="${read}"`).test(before);
  if (cachedOnly) return 'needs a value an earlier request of its flow cached';
  return undefined;
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown };
}

async function serveOne(loaded: ReturnType<typeof loadConfigObject>, doc: CorpusDoc, timeoutMs: number): Promise<ServeOutcome> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      cb();
    },
  });
  const gw = await startGateway(loaded, { logger: createLogger('warn', sink), defaultMetrics: false });
  try {
    const res = await fetch(`${gw.url}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'api-key': CORPUS_KEY },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello, what is the weather in Lisbon?' }], max_tokens: 20 }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let code = '';
    let message = '';
    try {
      const body = JSON.parse(text) as ErrorBody;
      code = typeof body.error?.code === 'string' ? body.error.code : '';
      message = typeof body.error?.message === 'string' ? body.error.message : '';
    } catch {
      // not JSON: the document's own answer
    }
    // The gateway's own account of a failure (also when on-error rewrote the answer).
    const logged = logs
      .map((l) => JSON.parse(l) as { code?: string; msg?: string; cause?: unknown })
      .find((l) => typeof l.code === 'string' && l.code.startsWith('GW_ERR_'));
    if (res.status < 500) return { kind: 'answered', status: res.status };
    const why = excuse(code || (logged?.code ?? ''), `${message} ${logged?.msg ?? ''} ${JSON.stringify(logged?.cause ?? '')}`, doc);
    if (why !== undefined) return { kind: 'excused', why, detail: `${res.status} ${code} ${message} ${JSON.stringify(logged?.cause ?? '')}`.trim() };
    if (code === '' && logged === undefined) return { kind: 'answered', status: res.status }; // a document's own 5xx
    const c = code || logged?.code || '';
    const m = message || logged?.msg || '';
    const inner = logged?.cause === undefined ? '' : ` (${JSON.stringify(logged.cause)})`;
    return { kind: 'fault', cause: `${c}: ${causeOf(m)}`, detail: `${res.status} ${m}${inner}` };
  } catch (err) {
    return { kind: 'fault', cause: 'no answer', detail: (err as Error).message };
  } finally {
    await gw.close(500);
  }
}

export interface RunOptions {
  /** Per request; a document that holds the request longer is a fault. */
  readonly timeoutMs?: number;
  readonly onResult?: (r: DocResult) => void;
  /** Serve a simulated managed identity (default true); false sets such documents aside as "needs an identity". */
  readonly identity?: boolean;
}

export async function runCorpus(dir: string, opts: RunOptions = {}): Promise<CorpusReport> {
  const docs = readCorpus(dir);
  const table = fragmentTable(dir);
  // Blocklists the documents name exist on the simulated Content Safety resource, as a deployment creates them.
  const blocklists = Object.fromEntries(
    docs.flatMap((d) => [...d.text.matchAll(/<blocklists>([\s\S]*?)<\/blocklists>/g)]).flatMap((m) => [...(m[1] ?? '').matchAll(/<id>\s*([^<\s]+)\s*<\/id>/g)].map((i) => [i[1] ?? '', ['corpus-blocked-term']])),
  );
  const sim = await startSimulator({ name: 'corpus', tokensPerSecond: 0, contentSafety: { blocklists } });
  const tmp = mkdtempSync(join(tmpdir(), 'tollgate-corpus-'));
  const results: DocResult[] = [];
  // The simulator also plays the managed identity (App Service protocol), so a document that
  // authenticates with one is served past that step instead of being set aside. The Azure SDK reads
  // only process.env: the caller runs in its own process (node --test, the script).
  const saved = { endpoint: process.env['IDENTITY_ENDPOINT'], header: process.env['IDENTITY_HEADER'] };
  if (opts.identity !== false) {
    process.env['IDENTITY_ENDPOINT'] = sim.identity.identityEndpoint;
    process.env['IDENTITY_HEADER'] = sim.identity.identityHeader;
  }
  try {
    for (const doc of docs) {
      let result: DocResult;
      let loaded: ReturnType<typeof loadConfigObject> | undefined;
      const notes: string[] = [];
      try {
        loaded = loadConfigObject(configFor(doc, docs, table, sim, tmp, notes), {}, doc.file);
      } catch (err) {
        const msg = err instanceof ConfigError ? err.issues.map((i) => i.message).join('\n') : (err as Error).message;
        result = { file: doc.file, kind: doc.kind, loadError: { cause: causeOf(msg), detail: msg.split('\n')[0] ?? msg }, notes };
      }
      if (loaded !== undefined) {
        try {
          result = { file: doc.file, kind: doc.kind, serve: await serveOne(loaded, doc, opts.timeoutMs ?? 20_000), notes };
        } catch (err) {
          // The runtime refused the configuration (a policy that does not compile).
          const msg = err instanceof ConfigError ? err.issues.map((i) => i.message).join('\n') : (err as Error).message;
          result = { file: doc.file, kind: doc.kind, loadError: { cause: causeOf(msg), detail: msg.split('\n')[0] ?? msg }, notes };
        }
      }
      results.push(result!);
      opts.onResult?.(result!);
    }
  } finally {
    for (const [k, v] of [['IDENTITY_ENDPOINT', saved.endpoint], ['IDENTITY_HEADER', saved.header]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await sim.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  const loaded = results.filter((r) => r.loadError === undefined).length;
  const served = results.filter((r) => r.serve !== undefined && r.serve.kind !== 'fault').length;
  return { results, total: results.length, loaded, served, loadRate: loaded / results.length, serveRate: loaded === 0 ? 0 : served / loaded };
}

/** The report: rates, then every failure grouped by cause (largest group first). */
export function formatReport(r: CorpusReport): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const lines = [
    `documents: ${r.total}; loaded: ${r.loaded} (${pct(r.loadRate)}); answered without a gateway fault: ${r.served} of ${r.loaded} (${pct(r.serveRate)})`,
  ];
  const group = (title: string, items: { cause: string; file: string; detail: string }[]): void => {
    if (items.length === 0) return;
    lines.push('', `${title}:`);
    const by = new Map<string, { file: string; detail: string }[]>();
    for (const i of items) by.set(i.cause, [...(by.get(i.cause) ?? []), i]);
    for (const [cause, list] of [...by].sort((a, b) => b[1].length - a[1].length)) {
      lines.push(`  [${list.length}] ${cause}`);
      for (const i of list) lines.push(`      ${i.file}: ${i.detail.slice(0, 300)}`);
    }
  };
  group('load errors', r.results.flatMap((x) => (x.loadError ? [{ cause: x.loadError.cause, file: x.file, detail: x.loadError.detail }] : [])));
  group('gateway faults', r.results.flatMap((x) => (x.serve?.kind === 'fault' ? [{ cause: x.serve.cause, file: x.file, detail: x.serve.detail }] : [])));
  group('not counted (needs what a test machine cannot give)', r.results.flatMap((x) => (x.serve?.kind === 'excused' ? [{ cause: x.serve.why, file: x.file, detail: x.serve.detail }] : [])));
  const notes = r.results.flatMap((x) => x.notes.map((n) => `  ${x.file}: ${n}`));
  if (notes.length > 0) lines.push('', 'stand-ins:', ...notes);
  return lines.join('\n');
}
