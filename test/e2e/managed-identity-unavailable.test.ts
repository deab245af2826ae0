/**
 * Managed identity when the environment has none, or its endpoint is down. A file of its own:
 * MSAL (inside `@azure/identity`) keeps the first identity endpoint it finds for the life of the
 * process, so these runs must not share a process with the working ones (managed-identity.test.ts).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, TEST_KEY } from '../helpers/gateway.ts';

const saved = { endpoint: process.env['IDENTITY_ENDPOINT'], header: process.env['IDENTITY_HEADER'] };
after(() => {
  for (const [k, v] of [['IDENTITY_ENDPOINT', saved.endpoint], ['IDENTITY_HEADER', saved.header]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

function chat(url: string): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }], max_tokens: 3 }),
  });
}

test('a document that needs a managed identity in an environment without one logs a located notice at start-up', async () => {
  delete process.env['IDENTITY_ENDPOINT'];
  delete process.env['IDENTITY_HEADER'];
  const t = await startTestGateway({ apiPolicies: '<policies><inbound><authentication-managed-identity resource="https://cognitiveservices.azure.com" /></inbound></policies>' });
  try {
    const notice = t.logs.find((l) => l.includes('needs a managed identity'));
    assert.ok(notice, 'a notice is logged');
    assert.match(notice, /:1:\d+: <authentication-managed-identity> needs a managed identity, but no managed identity is configured/);
  } finally {
    await t.close();
  }
});

test('identity endpoint down: the request fails into on-error (500 GW_ERR_MANAGED_IDENTITY); with ignore-error="true" it continues with the backend\'s own key', async () => {
  // Nothing listens on port 9 (discard) on loopback: connection refused.
  process.env['IDENTITY_ENDPOINT'] = 'http://127.0.0.1:9/msi/token';
  process.env['IDENTITY_HEADER'] = 'x';
  const policy = (ignore: boolean): string => `<policies><inbound><base />
      <authentication-managed-identity resource="https://cognitiveservices.azure.com" ignore-error="${ignore}" />
    </inbound><backend><base /></backend><outbound><base /></outbound>
    <on-error><set-header name="x-last-error" exists-action="override"><value>@(context.LastError.Reason)</value></set-header></on-error></policies>`;
  for (const ignore of [false, true]) {
    const t = await startTestGateway({ apiPolicies: policy(ignore) });
    try {
      const res = await chat(t.url);
      if (!ignore) {
        assert.equal(res.status, 500);
        assert.equal(res.headers.get('x-last-error'), 'GW_ERR_MANAGED_IDENTITY', 'on-error ran');
        const body = (await res.json()) as { error: { code: string; message: string } };
        assert.equal(body.error.code, 'GW_ERR_MANAGED_IDENTITY');
        assert.equal(t.sim.stats.requests, 0, 'nothing was forwarded');
        assert.ok(!t.logs.some((l) => l.includes('needs a managed identity')), 'the environment names an identity: no notice');
      } else {
        assert.equal(res.status, 200);
        await res.arrayBuffer();
        assert.ok(t.logs.some((l) => l.includes('managed identity token unavailable; continuing')));
      }
    } finally {
      await t.close();
    }
  }
});
