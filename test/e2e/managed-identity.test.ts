/**
 * Managed identity end to end: the gateway gets tokens from a simulator's managed-identity
 * endpoint (App Service protocol, found through IDENTITY_ENDPOINT / IDENTITY_HEADER as the Azure
 * SDK finds it) and backend simulators that require Entra tokens accept only those.
 *
 * `@azure/identity` reads its endpoint from `process.env` (MSAL keeps the first source it finds,
 * and its token cache, for the life of the process), so this file sets those two variables once
 * in its own test process (node --test runs each file in its own process), serves them from one
 * identity simulator, and gives each test its own client id so tests do not share cached tokens.
 * The failure paths are in managed-identity-unavailable.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningSimulator } from '../../src/simulator/index.ts';
import { useSimulatedManagedIdentity } from '../helpers/identity.ts';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';
import { ConfigError, loadConfigObject } from '../../src/config/load.ts';
import { buildRuntime } from '../../src/gateway/runtime.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import { createLogger } from '../../src/observability/logger.ts';

const identity = useSimulatedManagedIdentity();
const idp = {
  get identity(): RunningSimulator['identity'] {
    return identity.sim().identity;
  },
};

function chat(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }], max_tokens: 3 }),
  });
}

async function statuses(url: string, n: number): Promise<number[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const res = await chat(url);
      await res.arrayBuffer();
      return res.status;
    }),
  );
}

function claimsOf(authorization: unknown): Record<string, unknown> {
  assert.equal(typeof authorization, 'string');
  const m = /^Bearer ([^.]+)\.([^.]+)\.[^.]+$/.exec(authorization as string);
  assert.ok(m, 'a bearer JWT');
  return JSON.parse(Buffer.from(m[2] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** No log line carries any token the simulator issued (or part of one). */
function assertNoTokenLogged(t: TestGateway): void {
  const tokens = new Set(t.sim.requests.map((r) => r.headers.authorization).filter((a): a is string => typeof a === 'string').map((a) => a.slice(7)));
  assert.ok(tokens.size > 0);
  for (const line of t.logs) for (const token of tokens) assert.ok(!line.includes(token.split('.')[2] as string), `a token signature appears in a log line: ${line.slice(0, 200)}`);
}

const SEEDS = join(import.meta.dirname, '..', 'fixtures', 'seed-policies');

test('the complete AI gateway policy, verbatim, authenticates to a backend that requires Entra tokens with a managed-identity token, not the static key', async () => {
  const t = await startTestGateway({
    sim: { requireEntra: true },
    apiPolicies: readFileSync(join(SEEDS, 'complete-ai-gateway.xml'), 'utf8'),
    extraBackends: { 'openai-backend-pool': { urlFromSim: true }, 'embeddings-backend': { urlFromSim: true } },
  });
  const fetchedBefore = idp.identity.counts.managedIdentity;
  try {
    assert.deepEqual(await statuses(t.url, 10), Array(10).fill(200));
    const seen = t.sim.requests.filter((r) => r.path.endsWith('/chat/completions'));
    assert.equal(seen.length, 10);
    for (const r of seen) {
      assert.equal(r.headers['api-key'], undefined, 'the backend\'s static key is not sent');
      const claims = claimsOf(r.headers.authorization);
      assert.equal(claims['aud'], 'https://cognitiveservices.azure.com');
      assert.equal(claims['appid'], 'system-assigned');
    }
    assert.equal(idp.identity.counts.managedIdentity - fetchedBefore, 1, 'ten requests, one token fetch');
    assertNoTokenLogged(t);
  } finally {
    idp.identity.setTokenLifetime(3600);
    await t.close();
  }
});

test('Pattern 1: the token goes to the output variable when one is named, and a user-assigned identity is chosen by client-id', async () => {
  const policy = `<policies><inbound><base />
      <authentication-managed-identity resource="https://cognitiveservices.azure.com" client-id="11112222-aaaa-bbbb-cccc-000011112222" output-token-variable-name="msi-access-token" ignore-error="false" />
      <set-header name="Authorization" exists-action="override"><value>@("Bearer " + (string)context.Variables["msi-access-token"])</value></set-header>
    </inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`;
  const t = await startTestGateway({ sim: { requireEntra: true }, apiPolicies: policy, backend: { credentials: undefined } });
  const fetchedBefore = idp.identity.counts.managedIdentity;
  try {
    assert.deepEqual(await statuses(t.url, 3), [200, 200, 200]);
    const last = t.sim.requests.at(-1);
    assert.equal(claimsOf(last?.headers.authorization)['appid'], '11112222-aaaa-bbbb-cccc-000011112222');
    assert.equal(idp.identity.counts.managedIdentity - fetchedBefore, 1);
  } finally {
    await t.close();
  }
});

test('backend credentials.managedIdentity: every request carries the cached token; a short-lived token is refreshed before it expires, one fetch per refresh under concurrent load', async () => {
  // 4 s tokens: the gateway refreshes after 2 s, in the background, while requests keep flowing.
  idp.identity.setTokenLifetime(4);
  const t = await startTestGateway({
    sim: { requireEntra: true },
    backend: { credentials: { managedIdentity: { resource: 'https://cognitiveservices.azure.com', clientId: 'refresh-test' } } },
  });
  try {
    const counts = idp.identity.counts;
    const before = counts.managedIdentity;
    const fetched = (): number => counts.managedIdentity - before;
    const all: number[] = [];
    const started = Date.now();
    // Waves of 20 concurrent requests until the second token has been fetched (about 2 s in).
    while (fetched() < 2 && Date.now() - started < 10_000) all.push(...(await statuses(t.url, 20)));
    all.push(...(await statuses(t.url, 20)));
    assert.equal(fetched(), 2, 'one fetch at start, one refresh');
    assert.ok(all.length >= 40);
    assert.deepEqual(new Set(all), new Set([200]), 'no request reached the backend with an expired token, none waited for a failed one');
    const tokens = new Set(t.sim.requests.map((r) => r.headers.authorization));
    assert.equal(tokens.size, 2);
    assertNoTokenLogged(t);
  } finally {
    idp.identity.setTokenLifetime(3600);
    await t.close();
  }
});

test('send-request with <authentication-managed-identity>: the side request carries the managed-identity token; <authentication-basic> sends Basic credentials', async () => {
  const policy = `<policies><inbound><base />
      <send-request mode="new" response-variable-name="side" timeout="20">
        <set-url>{{sim-url}}/side/with-identity</set-url>
        <set-method>GET</set-method>
        <set-header name="Authorization" exists-action="override"><value>replaced</value></set-header>
        <authentication-managed-identity resource="https://management.azure.com/" client-id="side-request-client" />
      </send-request>
      <send-request mode="new" response-variable-name="side2" timeout="20">
        <set-url>{{sim-url}}/side/with-basic</set-url>
        <set-method>GET</set-method>
        <authentication-basic username="svc" password="p@ss:word" />
      </send-request>
      <set-header name="x-side-status" exists-action="override"><value>@(((IResponse)context.Variables["side"]).StatusCode.ToString())</value></set-header>
    </inbound></policies>`;
  const t = await startTestGateway({ apiPolicies: policy, config: { outbound: { allowPrivateNetworks: true } } });
  try {
    assert.deepEqual(await statuses(t.url, 2), [200, 200]);
    const side = t.sim.requests.filter((r) => r.path === '/side/with-identity');
    assert.equal(side.length, 2);
    for (const r of side) {
      const claims = claimsOf(r.headers.authorization);
      assert.equal(claims['aud'], 'https://management.azure.com', 'the resource asked for');
      assert.equal(claims['appid'], 'side-request-client');
    }
    const basic = t.sim.requests.find((r) => r.path === '/side/with-basic');
    assert.equal(basic?.headers.authorization, `Basic ${Buffer.from('svc:p@ss:word').toString('base64')}`);
    assert.ok(!t.logs.some((l) => l.includes('accepted but not applied')), 'no "not applied" notice any more');
  } finally {
    await t.close();
  }
});

test('authentication-managed-identity in outbound (as published fragments use it for a side request) stores the token in its variable; without a variable it is a load error there', async () => {
  const policy = (attrs: string): string => `<policies><inbound><base /></inbound><outbound><base />
      <authentication-managed-identity resource="https://monitor.azure.com/" client-id="outbound-client" ${attrs} />
      <set-header name="x-token-audience" exists-action="override"><value>@(((string)context.Variables["monitor-token"]).AsJwt()?.Audiences.FirstOrDefault() ?? "none")</value></set-header>
    </outbound></policies>`;
  const t = await startTestGateway({ apiPolicies: policy('output-token-variable-name="monitor-token"') });
  try {
    const res = await chat(t.url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-token-audience'), 'https://monitor.azure.com');
  } finally {
    await t.close();
  }
  const loaded = loadConfigObject({ backends: { b: { url: 'http://127.0.0.1:9/openai' } }, apis: { a: { path: 'openai', type: 'openai', backend: 'b', policies: policy('') } } }, {}, 'test.yaml');
  assert.throws(
    () => buildRuntime(loaded, { metrics: new Metrics({ defaultMetrics: false }), logger: createLogger('silent'), now: () => performance.now() }),
    (err: Error) => err instanceof ConfigError && /in the outbound section needs output-token-variable-name/.test(err.message),
  );
});
