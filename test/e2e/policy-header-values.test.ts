/**
 * A header value a policy computes from request data (here: a query parameter it reflects) that
 * HTTP cannot carry (CR/LF, other control characters, characters outside Latin-1) is the policy's
 * failure: a 400 answered in the OpenAI format, on-error runs, a usage record is written, nothing
 * is forwarded, and the backend's circuit breaker never hears of it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';

const REFLECT = '@(context.Request.Url.Query.GetValueOrDefault(&quot;v&quot;, &quot;plain&quot;))';
const ON_ERROR = '<base /><set-header name="x-on-error" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>';

// One failure opens the circuit, for any reason: a request-side failure must not count.
const BREAKER = {
  rules: [{ failureCondition: { count: 1, interval: 'PT1M', statusCodeRanges: [{ min: 500, max: 599 }] }, tripDuration: 'PT1M' }],
};

let t: TestGateway;
before(async () => {
  t = await startTestGateway({
    logLevel: 'warn',
    backend: { circuitBreaker: BREAKER },
    apiPolicies: `<policies><inbound><base />
      <choose><when condition="@(context.Request.Url.Query.GetValueOrDefault(&quot;where&quot;, &quot;&quot;) == &quot;request&quot;)">
        <set-header name="x-reflected" exists-action="override"><value>${REFLECT}</value></set-header>
      </when></choose></inbound>
      <backend><base /></backend>
      <outbound><base />
      <choose><when condition="@(context.Request.Url.Query.GetValueOrDefault(&quot;where&quot;, &quot;&quot;) == &quot;response&quot;)">
        <set-header name="x-reflected" exists-action="override"><value>${REFLECT}</value></set-header>
      </when></choose></outbound>
      <on-error>${ON_ERROR}</on-error></policies>`,
  });
});
after(() => t.close());

const chat = (query: string): Promise<Response> =>
  fetch(`${t.url}/v1/chat/completions?${query}`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
  });

const HOSTILE: ReadonlyArray<[string, string]> = [
  ['a non-Latin-1 character', encodeURIComponent('check ✓ done')],
  ['an emoji (a surrogate pair)', encodeURIComponent('🙂')],
  ['CR LF with an injected header', encodeURIComponent('x\r\nx-injected: 1')],
  ['a lone LF', encodeURIComponent('x\ny')],
  ['NUL', encodeURIComponent('x\u0000y')],
  ['another control character', encodeURIComponent('x\u0007y')],
];

for (const where of ['request', 'response'] as const) {
  for (const [what, value] of HOSTILE) {
    test(`${what} reflected into a ${where} header is a 400 from the policy, answered, recorded, and not forwarded`, async () => {
      const before = t.sim.stats.requests;
      const usagesBefore = t.usages.length;
      const res = await chat(`where=${where}&v=${value}`);
      assert.equal(res.status, 400);
      const body = (await res.json()) as { error: { code: string; param: string | null; request_id: string; message: string } };
      assert.equal(body.error.code, 'GW_ERR_INVALID_HEADER_VALUE');
      assert.equal(body.error.param, 'x-reflected');
      assert.equal(body.error.request_id, res.headers.get('x-request-id'));
      // The message names the header, never the value.
      assert.doesNotMatch(body.error.message, /injected|✓|🙂/);
      assert.equal(res.headers.get('x-on-error'), 'GW_ERR_INVALID_HEADER_VALUE', 'on-error ran');
      assert.equal(res.headers.get('x-injected'), null);
      // On the request side nothing reached the backend; on the response side it answered once.
      assert.equal(t.sim.stats.requests - before, where === 'request' ? 0 : 1);
      await waitForUsage(usagesBefore + 1);
      const usage = t.usages.at(-1);
      assert.equal(usage?.status, 400);
      assert.equal(usage?.errorCode, 'GW_ERR_INVALID_HEADER_VALUE');
    });
  }
}

test('after every refused header value the backend circuit is still closed and serves everyone', async () => {
  for (let i = 0; i < 3; i++) assert.equal((await chat(`where=request&v=${encodeURIComponent('✓')}`)).status, 400);
  const res = await chat('where=request&v=fine');
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  const status = (await (await fetch(`${t.gw.adminUrl}/status`)).json());
  assert.doesNotMatch(JSON.stringify(status), /"open"/);
});

test('a Latin-1 value (obs-text) and a plain value pass through to the backend and back', async () => {
  const res = await chat(`where=response&v=${encodeURIComponent('café')}`);
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  // fetch decodes header bytes as Latin-1: the é (0xE9) arrives as it was set.
  assert.equal(res.headers.get('x-reflected'), 'café');
});

async function waitForUsage(n: number): Promise<void> {
  const deadline = Date.now() + 2000;
  while (t.usages.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

test('a URL a policy produced that HTTP cannot carry is the policy\'s failure (500, on-error), not a backend failure', async () => {
  const t2 = await startTestGateway({
    logLevel: 'warn',
    backend: { circuitBreaker: BREAKER },
    apiPolicies: `<policies><inbound><base />
      <rewrite-uri template="@(&quot;/v1/chat/completions&quot; + context.Request.Url.Query.GetValueOrDefault(&quot;v&quot;, &quot;&quot;))" />
      </inbound><backend><base /></backend><outbound><base /></outbound><on-error>${ON_ERROR}</on-error></policies>`,
  });
  try {
    const send = (v: string): Promise<Response> =>
      fetch(`${t2.url}/v1/chat/completions?v=${encodeURIComponent(v)}`, {
        method: 'POST',
        headers: { 'api-key': TEST_KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
      });
    for (let i = 0; i < 3; i++) {
      const res = await send('✓');
      assert.equal(res.status, 500);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'GW_ERR_POLICY_FAILED');
      assert.equal(res.headers.get('x-on-error'), 'GW_ERR_POLICY_FAILED');
    }
    assert.equal(t2.sim.stats.requests, 0);
    const ok = await send('');
    assert.equal(ok.status, 200, 'the circuit stayed closed');
    await ok.arrayBuffer();
  } finally {
    await t2.close();
  }
});
