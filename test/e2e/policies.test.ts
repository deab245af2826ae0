/**
 * The policies with behaviour, each through a real gateway in front of the simulator.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';
import { backoffSeconds } from '../../src/policies/retry/index.ts';

const doc = (inbound: string, outbound = '<base />', onError = '<base />', backend = '<base />'): string =>
  `<policies><inbound><base />${inbound}</inbound><backend>${backend}</backend><outbound>${outbound}</outbound><on-error>${onError}</on-error></policies>`;

async function withGateway(policies: string, fn: (t: TestGateway) => Promise<void>, extra: Parameters<typeof startTestGateway>[0] = {}): Promise<void> {
  const t = await startTestGateway({ apiPolicies: policies, ...extra });
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

function chat(t: TestGateway, headers: Record<string, string> = {}, path = '/v1/chat/completions', body: unknown = undefined): Promise<Response> {
  return fetch(t.url + path, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body ?? { model: 'gpt-4o', messages: [{ role: 'user', content: 'policy test' }], max_tokens: 2 }),
  });
}

test('set-header and set-query-parameter change what the backend receives', () =>
  withGateway(
    doc(`<set-header name="x-added" exists-action="override"><value>@(context.Subscription.Id)</value></set-header>
         <set-header name="x-keep" exists-action="skip"><value>policy</value></set-header>
         <set-header name="x-multi" exists-action="append"><value>b</value></set-header>
         <set-header name="x-remove" exists-action="delete" />
         <set-query-parameter name="api-version" exists-action="override"><value>2024-10-21</value></set-query-parameter>`),
    async (t) => {
      const res = await chat(t, { 'x-keep': 'client', 'x-multi': 'a', 'x-remove': 'gone' });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      const seen = t.sim.requests.at(-1)!;
      assert.equal(seen.headers['x-added'], 'team-a');
      assert.equal(seen.headers['x-keep'], 'client');
      assert.equal(seen.headers['x-multi'], 'a, b');
      assert.equal(seen.headers['x-remove'], undefined);
      assert.equal(seen.url, '/openai/v1/chat/completions?api-version=2024-10-21');
    },
  ));

test('set-body replaces the request body (re-read for metering) and the response body', () =>
  withGateway(
    doc(
      `<set-body>@{ var body = context.Request.Body.As&lt;JObject&gt;(preserveContent: true); body["max_tokens"] = 5; return body.ToString(); }</set-body>`,
      `<base /><set-body>@("{\\"wrapped\\": " + context.Response.StatusCode + "}")</set-body>`,
    ),
    async (t) => {
      const res = await chat(t);
      assert.equal(await res.text(), '{"wrapped": 200}');
      const forwarded = t.sim.requests.at(-1)!.body as { max_tokens: number };
      assert.equal(forwarded.max_tokens, 5);
    },
  ));

test('rewrite-uri changes the path forwarded below the backend URL', () =>
  withGateway(doc('<rewrite-uri template="/deployments/gpt-4o-mini/chat/completions" />'), async (t) => {
    const res = await chat(t, {}, '/v1/chat/completions?api-version=2024-10-21');
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    assert.equal(t.sim.requests.at(-1)!.url, '/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21');
  }));

test('mock-response answers without calling the backend', () =>
  withGateway(doc('<mock-response status-code="200" content-type="application/json" />'), async (t) => {
    const before = t.sim.stats.requests;
    const res = await chat(t);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '{}');
    assert.equal(t.sim.stats.requests, before);
  }));

test('check-header refuses a missing or unlisted value with the configured status and message', () =>
  withGateway(
    doc('<check-header name="x-team" failed-check-httpcode="403" failed-check-error-message="Unknown team" ignore-case="true"><value>Blue</value><value>green</value></check-header>'),
    async (t) => {
      const missing = await chat(t);
      assert.equal(missing.status, 403);
      const body = (await missing.json()) as { error: { message: string; code: string } };
      assert.deepEqual([body.error.message, body.error.code], ['Unknown team', 'GW_ERR_POLICY_CHECK_HEADER']);
      const wrong = await chat(t, { 'x-team': 'red' });
      assert.equal(wrong.status, 403);
      await wrong.arrayBuffer();
      const ok = await chat(t, { 'x-team': 'BLUE' });
      assert.equal(ok.status, 200);
      await ok.arrayBuffer();
    },
  ));

test('ip-filter forbids or allows the caller address', async () => {
  await withGateway(doc('<ip-filter action="forbid"><address>127.0.0.1</address></ip-filter>'), async (t) => {
    const res = await chat(t);
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'GW_ERR_IP_FORBIDDEN');
  });
  await withGateway(doc('<ip-filter action="allow"><address-range from="127.0.0.0" to="127.0.0.255" /></ip-filter>'), async (t) => {
    const res = await chat(t);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  });
});

test('cors answers a preflight without a key and adds CORS headers to allowed origins', () =>
  withGateway(
    doc(`<cors allow-credentials="false"><allowed-origins><origin>https://app.example</origin></allowed-origins>
         <allowed-methods preflight-result-max-age="300"><method>POST</method></allowed-methods>
         <allowed-headers><header>*</header></allowed-headers></cors>`),
    async (t) => {
      const before = t.sim.stats.requests;
      const pre = await fetch(`${t.url}/v1/chat/completions`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, api-key' },
      });
      assert.equal(pre.status, 200);
      assert.equal(pre.headers.get('access-control-allow-origin'), 'https://app.example');
      assert.equal(pre.headers.get('access-control-allow-methods'), 'POST');
      assert.equal(pre.headers.get('access-control-allow-headers'), 'content-type, api-key');
      assert.equal(pre.headers.get('access-control-max-age'), '300');
      assert.equal(t.sim.stats.requests, before, 'a preflight never reaches the backend');
      const res = await chat(t, { origin: 'https://app.example' });
      assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example');
      await res.arrayBuffer();
      const other = await chat(t, { origin: 'https://evil.example' });
      assert.equal(other.headers.get('access-control-allow-origin'), null);
      await other.arrayBuffer();
    },
  ));

test('send-request keeps the side response in a variable; internal targets are refused by default', async () => {
  const policy = doc(
    `<send-request mode="new" response-variable-name="side" timeout="5">
       <set-url>{{sim-url}}/v1/models</set-url><set-method>GET</set-method>
       <set-header name="api-key" exists-action="override"><value>{{backend-key}}</value></set-header>
     </send-request>`,
    `<base /><set-header name="x-side" exists-action="override"><value>@(((IResponse)context.Variables["side"]).StatusCode + ":" + ((IResponse)context.Variables["side"]).Body.As&lt;JObject&gt;()["object"])</value></set-header>`,
    `<base /><set-header name="x-reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>`,
  );
  await withGateway(policy, async (t) => {
    const res = await chat(t);
    assert.equal(res.status, 500);
    assert.equal(res.headers.get('x-reason'), 'GW_ERR_SEND_REQUEST_FORBIDDEN_TARGET');
    await res.arrayBuffer();
  });
  await withGateway(
    policy,
    async (t) => {
      const res = await chat(t);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-side'), '200:list');
      await res.arrayBuffer();
    },
    { config: { outbound: { allowPrivateNetworks: true, allowedHosts: [] } } },
  );
});

test('cache-store-value and cache-lookup-value carry a value across requests', () =>
  withGateway(
    doc(
      `<cache-lookup-value key="@(&quot;count-&quot; + context.Subscription.Id)" variable-name="count" default-value="0" />
       <set-variable name="next" value="@(int.Parse((string)context.Variables[&quot;count&quot;]) + 1)" />
       <cache-store-value key="@(&quot;count-&quot; + context.Subscription.Id)" value="@(((int)context.Variables[&quot;next&quot;]).ToString())" duration="60" />`,
      `<base /><set-header name="x-count" exists-action="override"><value>@(context.Variables["next"].ToString())</value></set-header>`,
    ),
    async (t) => {
      const counts: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await chat(t);
        counts.push(res.headers.get('x-count') ?? '');
        await res.arrayBuffer();
      }
      assert.deepEqual(counts, ['1', '2', '3']);
    },
  ));

test('emit-metric adds to a custom Prometheus counter with its dimensions', () =>
  withGateway(doc('<emit-metric name="calls" namespace="ai-gateway" value="2"><dimension name="API ID" /><dimension name="Tenant" value="@(context.Subscription.Id)" /></emit-metric>'), async (t) => {
    const res = await chat(t);
    await res.arrayBuffer();
    const metrics = await (await fetch(`${t.gw.adminUrl}/metrics`)).text();
    assert.match(metrics, /tollgate_custom_ai_gateway_calls\{api_id="openai",tenant="team-a"\} 2/);
  }));

test('an expression that fails at run time goes to on-error with context.LastError set', () =>
  withGateway(
    doc('<set-variable name="n" value="@(int.Parse(&quot;not a number&quot;))" />', '<base />', '<base /><set-header name="x-last-error" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>'),
    async (t) => {
      const res = await chat(t);
      assert.equal(res.status, 500);
      assert.equal(res.headers.get('x-last-error'), 'GW_ERR_POLICY_EXPRESSION');
      const body = (await res.json()) as { error: { code: string; request_id: string } };
      assert.equal(body.error.code, 'GW_ERR_POLICY_EXPRESSION');
      assert.equal(body.error.request_id, res.headers.get('x-request-id'));
    },
  ));

test('forward-request fail-on-error-status-code sends a backend error to on-error', () =>
  withGateway(doc('', '<base />', '<base />', '<forward-request fail-on-error-status-code="true" />'), async (t) => {
    const res = await chat(t, { 'x-sim-fail': '503' });
    assert.equal(res.status, 502);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'GW_ERR_BACKEND_ERROR_STATUS');
  }));

test('retry waits follow APIM\'s fixed, linear and exponential formulas', () => {
  assert.equal(backoffSeconds({ interval: 10, firstFastRetry: false }, 3), 10);
  assert.deepEqual([0, 1, 2].map((k) => backoffSeconds({ interval: 10, delta: 5, firstFastRetry: false }, k)), [10, 15, 20]);
  // The documented example: interval = delta = 10, max 100 → 10, 20, 40, 80, 100 (jitter at its midpoint).
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((k) => backoffSeconds({ interval: 10, delta: 10, maxInterval: 100, firstFastRetry: false }, k, () => 0.5)), [10, 20, 40, 80, 100, 100]);
  assert.equal(backoffSeconds({ interval: 1, delta: 1, maxInterval: 10, firstFastRetry: true }, 0), 0);
});

test('set-method changes the method forwarded, and trace writes a log line with the request id', () =>
  withGateway(
    doc('<set-method>PUT</set-method><trace source="audit" severity="information"><message>@("caller " + context.Subscription.Id)</message><metadata name="api" value="@(context.Api.Id)" /></trace>'),
    async (t) => {
      const res = await chat(t);
      await res.arrayBuffer();
      assert.equal(t.sim.requests.at(-1)!.method, 'PUT');
      const id = res.headers.get('x-request-id');
      const line = t.logs.map((l) => JSON.parse(l) as { requestId?: string; traceSource?: string; msg?: string; metadata?: { api?: string } }).find((l) => l.requestId === id && l.traceSource === 'audit');
      assert.ok(line, 'a trace line for this request');
      assert.equal(line.msg, 'caller team-a');
      assert.equal(line.metadata?.api, 'openai');
    },
  ));
