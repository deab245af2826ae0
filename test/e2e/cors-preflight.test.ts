/**
 * A CORS preflight carries no key, so only the cors policy may act on it (as in APIM): no
 * send-request, expression, trace or limit of the inbound section runs for an anonymous OPTIONS,
 * whatever its position in the document. The same policies still run for authenticated calls.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';

let t: TestGateway;
let canary: Server;
let canaryHits = 0;

const CORS = `<cors allow-credentials="false"><allowed-origins><origin>https://app.example</origin></allowed-origins>
  <allowed-methods><method>POST</method></allowed-methods><allowed-headers><header>*</header></allowed-headers></cors>`;

before(async () => {
  canary = createServer((_req, res) => {
    canaryHits++;
    res.end('{}');
  });
  await new Promise<void>((r) => canary.listen(0, '127.0.0.1', r));
  const canaryUrl = `http://127.0.0.1:${(canary.address() as { port: number }).port}/hit`;
  // Everything an anonymous caller must not be able to trigger comes before the cors policy.
  const sideEffects = `<send-request mode="new" response-variable-name="side" timeout="5"><set-url>${canaryUrl}</set-url><set-method>GET</set-method></send-request>
    <set-variable name="computed" value="@(context.Request.Headers.GetValueOrDefault(&quot;origin&quot;, &quot;&quot;).Length)" />
    <trace source="preflight-test" severity="information"><message>inbound-policy-ran</message></trace>
    <rate-limit-by-key calls="1" renewal-period="60" counter-key="@(context.Request.IpAddress)" />`;
  t = await startTestGateway({
    apiPolicies: `<policies><inbound><base />${sideEffects}${CORS}</inbound></policies>`,
    extraApis: { nocors: { path: 'nocors', type: 'openai', backend: 'sim', subscriptionRequired: false, policies: `<policies><inbound><base />${sideEffects}</inbound></policies>` } },
    config: { outbound: { allowPrivateNetworks: true, allowedHosts: [] } },
  });
});
after(async () => {
  await t.close();
  canary.closeAllConnections();
  await new Promise<void>((r) => canary.close(() => r()));
});

function preflight(path: string): Promise<Response> {
  return fetch(t.url + path, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, api-key' } });
}

test('an anonymous preflight is answered by the cors policy alone: no other inbound policy runs', async () => {
  const logsBefore = t.logs.length;
  for (let i = 0; i < 3; i++) {
    const res = await preflight('/v1/chat/completions');
    assert.equal(res.status, 200, await res.text());
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(res.headers.get('access-control-allow-methods'), 'POST');
  }
  assert.equal(canaryHits, 0, 'send-request did not run');
  const logged = t.logs.slice(logsBefore).join('\n');
  assert.doesNotMatch(logged, /inbound-policy-ran/, 'trace did not run');
  // Three preflights from one address: a rate limit of 1 call would have refused two of them.
});

test('a preflight on an API without a cors policy is refused, and still runs none of its policies', async () => {
  const res = await preflight('/nocors/v1/chat/completions');
  assert.equal(res.status, 405);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'GW_ERR_METHOD_NOT_ALLOWED');
  assert.equal(canaryHits, 0);
});

test('an authenticated call still runs the whole inbound section', async () => {
  const res = await fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json', origin: 'https://app.example' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'after preflight' }], max_tokens: 2 }),
  });
  assert.equal(res.status, 200, await res.text());
  assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example');
  assert.equal(canaryHits, 1, 'send-request ran once');
  assert.match(t.logs.join('\n'), /inbound-policy-ran/);
});
