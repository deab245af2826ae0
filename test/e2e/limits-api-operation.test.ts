/**
 * `rate-limit` and `quota` with `<api>` and `<operation>` children: each child is a limit of its
 * own for that API (or operation) of the subscription, checked together with the outer limit in
 * one reservation, on the memory store and on Redis. Bad children are load errors at file:line:col.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfigText, type ConfigIssue } from '../../src/config/load.ts';
import { buildRuntime } from '../../src/gateway/runtime.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startRedis, type RunningRedis } from '../helpers/redis.ts';
import { startTestGateway, TEST_KEY, type TestGateway, type TestGatewayOptions } from '../helpers/gateway.ts';

/** The policy at product scope, so that one document covers every API of the subscription. */
function gateway(productPolicy: string, opts: TestGatewayOptions = {}): Promise<TestGateway> {
  return startTestGateway({
    ...opts,
    extraApis: { 'team-b': { path: 'team-b', type: 'openai', backend: 'sim', displayName: 'Team B Chat' } },
    config: {
      ...opts.config,
      products: { starter: { apis: ['openai', 'azure-openai', 'team-b'], policies: `<policies><inbound><base />${productPolicy}</inbound></policies>` } },
    },
  });
}

type Route = 'openai' | 'azure' | 'team-b';
const CHAT: Record<Route, string> = {
  openai: '/v1/chat/completions',
  azure: '/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21',
  'team-b': '/team-b/v1/chat/completions',
};

async function chat(t: TestGateway, route: Route): Promise<Response> {
  const res = await fetch(`${t.url}${CHAT[route]}`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json', 'x-sim-completion-tokens': '1' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 }),
  });
  return res;
}

async function embed(t: TestGateway): Promise<Response> {
  return fetch(`${t.url}/v1/embeddings`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'text-embedding-3-small', input: 'hi' }),
  });
}

/** Statuses of `n` calls in a row (bodies drained). */
async function statuses(n: number, call: () => Promise<Response>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await call();
    await res.arrayBuffer();
    out.push(res.status);
  }
  return out;
}

async function expectError(res: Response, status: number, code: string, message: RegExp): Promise<void> {
  assert.equal(res.status, status);
  assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, code);
  assert.match(body.error.message, message);
}

const RATE_LIMIT_WITH_API =
  '<rate-limit calls="5" renewal-period="60" remaining-calls-header-name="x-calls-left" total-calls-header-name="x-calls-total">' +
  '<api id="azure-openai" calls="2" renewal-period="60" /></rate-limit>';

async function apiLimitThenOuterLimit(t: TestGateway): Promise<void> {
  const first = await chat(t, 'azure');
  await first.arrayBuffer();
  assert.equal(first.status, 200);
  assert.deepEqual([first.headers.get('x-calls-left'), first.headers.get('x-calls-total')], ['1', '2'], 'the tightest limit (the API\'s) speaks');
  assert.deepEqual(await statuses(1, () => chat(t, 'azure')), [200]);
  await expectError(await chat(t, 'azure'), 429, 'GW_ERR_RATE_LIMIT', /^Rate limit is exceeded\. Try again in \d+ seconds\.$/);
  assert.deepEqual(await statuses(1, () => chat(t, 'azure')), [429], 'the API stays at its limit');
  // The refused calls reserved nothing on the outer counter: 5 - 2 calls are left for other APIs.
  const other = await chat(t, 'openai');
  await other.arrayBuffer();
  assert.equal(other.status, 200);
  assert.deepEqual([other.headers.get('x-calls-left'), other.headers.get('x-calls-total')], ['2', '5'], 'only the outer limit applies here');
  assert.deepEqual(await statuses(3, () => chat(t, 'openai')), [200, 200, 429], 'the other API goes on until the outer limit');
  assert.deepEqual(await statuses(1, () => chat(t, 'team-b')), [429], 'the outer limit covers every API');
}

test('rate-limit with an <api> child: that API stops at its own limit while another API goes on until the outer limit', async () => {
  const t = await gateway(RATE_LIMIT_WITH_API);
  try {
    await apiLimitThenOuterLimit(t);
  } finally {
    await t.close();
  }
});

test('rate-limit <operation> child limits only that operation of that API; <api name> matches the display name', async () => {
  const t = await gateway(
    '<rate-limit calls="100" renewal-period="60"><api name="Team B Chat" calls="100" renewal-period="60">' +
      '<operation id="ChatCompletions_Create" calls="2" renewal-period="10" /></api></rate-limit>',
  );
  try {
    assert.deepEqual(await statuses(3, () => chat(t, 'team-b')), [200, 200, 429]);
    assert.deepEqual(await statuses(3, () => chat(t, 'openai')), [200, 200, 200], 'the same operation of another API is not limited');
    const models = await fetch(`${t.url}/team-b/v1/models`, { headers: { 'api-key': TEST_KEY } });
    await models.arrayBuffer();
    assert.equal(models.status, 200, 'another operation of the same API is not limited');
  } finally {
    await t.close();
  }
});

test('an <api> counter is its own: never the outer counter, and one per subscription', async () => {
  // Same calls and period as the outer limit: were the keys equal, each call would count twice.
  const other = 'tg-other-key-0123456789';
  const t = await gateway('<rate-limit calls="3" renewal-period="60"><api id="azure-openai" calls="3" renewal-period="60" /></rate-limit>', {
    config: { subscriptions: { 'team-a': { product: 'starter', keys: ['{{team-key}}'] }, 'team-b': { product: 'starter', keys: [other] } } },
  });
  try {
    assert.deepEqual(await statuses(4, () => chat(t, 'azure')), [200, 200, 200, 429]);
    const res = await fetch(`${t.url}${CHAT.azure}`, {
      method: 'POST',
      headers: { 'api-key': other, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 }),
    });
    await res.arrayBuffer();
    assert.equal(res.status, 200, 'another subscription has its own API counter');
  } finally {
    await t.close();
  }
});

test('quota with an <api> child: 403 "Out of call volume quota" for that API, others still served', async () => {
  const t = await gateway('<quota calls="100" renewal-period="3600"><api id="azure-openai" calls="1" /></quota>');
  try {
    assert.deepEqual(await statuses(1, () => chat(t, 'azure')), [200]);
    await expectError(await chat(t, 'azure'), 403, 'GW_ERR_QUOTA', /^Out of call volume quota\. Quota will be replenished in \d\d:\d\d:\d\d\.$/);
    assert.deepEqual(await statuses(2, () => chat(t, 'openai')), [200, 200]);
  } finally {
    await t.close();
  }
});

test('quota <operation> bandwidth child: once its kilobytes are spent that operation gets 403, the API\'s other operations do not', async () => {
  // One embeddings answer is well over 1 KB; bandwidth is counted when a request ends, so the
  // first answer is served and a later one is refused.
  const t = await gateway('<quota calls="1000" renewal-period="3600"><api name="openai" calls="1000"><operation id="embeddings_create" bandwidth="1" /></api></quota>');
  try {
    const seen = await statuses(5, () => embed(t));
    assert.equal(seen[0], 200);
    assert.ok(seen.includes(403), `a 403 came (${seen.join(',')})`);
    assert.deepEqual(await statuses(2, () => chat(t, 'openai')), [200, 200]);
  } finally {
    await t.close();
  }
});

// --- load errors ---

function issuesFor(policy: string): { issues: ConfigIssue[]; notices: readonly string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-scoped-limits-'));
  try {
    writeFileSync(join(dir, 'policy.xml'), policy);
    const file = join(dir, 'tollgate.yaml');
    writeFileSync(
      file,
      'backends:\n  b: { url: "http://127.0.0.1:9/openai" }\napis:\n  a: { path: openai, backend: b }\nproducts:\n  p: { apis: [a], policies: policy.xml }\nsubscriptions:\n  s: { product: p, keys: ["tg-key-0123456789"] }\n',
    );
    try {
      const rt = buildRuntime(loadConfigText(readFileSync(file, 'utf8'), file), { metrics: new Metrics({ defaultMetrics: false }), logger: createLogger('silent'), now: () => 0 });
      void rt.close();
      return { issues: [], notices: rt.notices };
    } catch (err) {
      if (err instanceof ConfigError) return { issues: [...err.issues], notices: [] };
      throw err;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Line and column (1-based) of the first `marker` in `text`, plus `shift` characters. */
function at(text: string, marker: string, shift = 0): [number, number] {
  const i = text.indexOf(marker) + shift;
  const before = text.slice(0, i).split('\n');
  return [before.length, (before.at(-1)?.length ?? 0) + 1];
}

const doc = (inner: string): string => `<policies>\n  <inbound>\n${inner}\n  </inbound>\n</policies>`;

// [what, document, where (marker, shift), message]
const cases: Array<[string, string, string, number, RegExp]> = [
  ['an unknown attribute on <api>', doc('<rate-limit calls="5" renewal-period="60">\n  <api id="a" calls="1" renewal-period="60" colour="red" />\n</rate-limit>'), 'colour="', 8, /<api> has no attribute "colour"/],
  ['an unknown attribute on <operation>', doc('<quota calls="5" renewal-period="60">\n  <api id="a" calls="1">\n    <operation id="ChatCompletions_Create" calls="1" counter-key="k" />\n  </api>\n</quota>'), 'counter-key="', 13, /<operation> has no attribute "counter-key"/],
  ['an <api> with neither name nor id', doc('<rate-limit calls="5" renewal-period="60">\n  <api calls="1" renewal-period="60" />\n</rate-limit>'), '<api', 0, /<api> needs the attribute "name" or "id"/],
  ['an <operation> with neither name nor id', doc('<rate-limit calls="5" renewal-period="60">\n  <api id="a" calls="1" renewal-period="60">\n    <operation calls="1" renewal-period="60" />\n  </api>\n</rate-limit>'), '<operation', 0, /<operation> needs the attribute "name" or "id"/],
  ['calls="0" on <api>', doc('<rate-limit calls="5" renewal-period="60">\n  <api id="a" calls="0" renewal-period="60" />\n</rate-limit>'), 'calls="0"', 7, /<api> attribute "calls".*from 1/],
  ['negative calls on <operation>', doc('<quota calls="5" renewal-period="60">\n  <api id="a" calls="1">\n    <operation id="ChatCompletions_Create" calls="-3" />\n  </api>\n</quota>'), 'calls="-3"', 7, /<operation> attribute "calls".*from 1/],
  ['a rate-limit <api> without renewal-period', doc('<rate-limit calls="5" renewal-period="60">\n  <api id="a" calls="1" />\n</rate-limit>'), '<api', 0, /<api> needs the attribute "renewal-period"/],
  ['a quota <api> with neither calls nor bandwidth', doc('<quota calls="5" renewal-period="60">\n  <api id="a" renewal-period="60" />\n</quota>'), '<api', 0, /<api> needs calls, bandwidth, or both/],
  ['an <operation> outside an <api>', doc('<rate-limit calls="5" renewal-period="60">\n  <operation id="ChatCompletions_Create" calls="1" renewal-period="60" />\n</rate-limit>'), '<operation', 0, /<operation> must be inside an <api> of <rate-limit>/],
  ['another child element', doc('<quota calls="5" renewal-period="60">\n  <product id="p" calls="1" />\n</quota>'), '<product', 0, /<quota> does not take <product>; allowed: <api>/],
  ['an <api> named twice', doc('<rate-limit calls="5" renewal-period="60">\n  <api id="a" calls="1" renewal-period="60" />\n  <api id="a" calls="2" renewal-period="60" />\n</rate-limit>'), 'id="a" calls="2"', 4, /repeats an earlier <api id="a">/],
  ['text inside <api>', doc('<rate-limit calls="5" renewal-period="60">\n  <api id="a" calls="1" renewal-period="60">hello</api>\n</rate-limit>'), 'hello', 0, /<api> takes no text/],
];

for (const [what, policy, marker, shift, message] of cases) {
  test(`${what} is a load error at its line:col`, () => {
    const { issues } = issuesFor(policy);
    const first = issues[0];
    assert.ok(first, 'an error is reported');
    assert.match(first.file, /policy\.xml$/);
    assert.match(first.message, message);
    assert.deepEqual([first.line, first.col], at(policy, marker, shift), first.message);
  });
}

test('an <operation> no API type has loads with a located notice (it could never apply)', () => {
  const policy = doc('<rate-limit calls="5" renewal-period="60">\n  <api id="a" calls="1" renewal-period="60">\n    <operation id="ChatCompletion_Create" calls="1" renewal-period="60" />\n  </api>\n</rate-limit>');
  const { issues, notices } = issuesFor(policy);
  assert.deepEqual(issues, []);
  const [line, col] = at(policy, 'ChatCompletion_Create');
  assert.ok(notices.some((n) => n.endsWith(`policy.xml:${line}:${col}: <operation id="ChatCompletion_Create"> matches no operation Tollgate routes (known: ChatCompletions_Create, Completions_Create, embeddings_create, Responses_Create, ImageGenerations_Create, Transcriptions_Create, Translations_Create, Models_List, Passthrough); this limit never applies`)), notices.join('\n'));
});

// --- Redis ---

let redis: RunningRedis | undefined;
before(async () => {
  redis = await startRedis();
});
after(() => redis?.stop());

test('on the Redis store too: the <api> limit and the outer limit are reserved together', async () => {
  assert.ok(redis);
  const t = await gateway(RATE_LIMIT_WITH_API, { logLevel: 'warn', config: { state: { store: 'redis', url: redis.url, failMode: 'closed', commandTimeoutMs: 2000 } } });
  try {
    await apiLimitThenOuterLimit(t);
  } finally {
    await t.close();
  }
});
