/**
 * Backend `credentials.oauth2`: the gateway runs the client credentials grant against the
 * simulator's OAuth2 endpoint, caches the token, and sends it to a backend that takes only Entra
 * tokens. A refused secret fails the request before anything is forwarded, and appears in no log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, TEST_KEY } from '../helpers/gateway.ts';
import { DEFAULT_TENANT_ID } from '../../src/simulator/identity.ts';

const SECRET = 'oauth-client-secret-canary-5b1e';

function chat(url: string): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }], max_tokens: 3 }),
  });
}

for (const accepted of [true, false]) {
  test(accepted ? 'OAuth2 client credentials: one grant serves many requests, the backend sees the bearer token' : 'OAuth2 client credentials refused: 500 GW_ERR_BACKEND_CREDENTIALS, nothing forwarded, the secret in no log', async () => {
    const t = await startTestGateway({
      sim: { requireEntra: true, oauthClients: { 'gateway-app': accepted ? SECRET : 'another-secret' } },
      backend: {
        credentials: {
          oauth2: {
            tokenUrl: `{{sim-url}}/${DEFAULT_TENANT_ID}/oauth2/v2.0/token`,
            clientId: 'gateway-app',
            clientSecret: '{{oauth-secret}}',
            scope: 'https://cognitiveservices.azure.com/.default',
          },
        },
      },
      extraNamedValues: { 'oauth-secret': { value: SECRET, secret: true } },
    });
    try {
      const results = await Promise.all(Array.from({ length: 8 }, () => chat(t.url)));
      for (const res of results) {
        assert.equal(res.status, accepted ? 200 : 500);
        const body = (await res.json()) as { error?: { code: string } };
        if (!accepted) assert.equal(body.error?.code, 'GW_ERR_BACKEND_CREDENTIALS');
      }
      assert.equal(t.sim.identity.counts.oauth2, 1, 'one grant for eight concurrent requests');
      const forwarded = t.sim.requests.filter((r) => r.path.endsWith('/chat/completions'));
      if (accepted) {
        assert.equal(forwarded.length, 8);
        for (const r of forwarded) assert.match(String(r.headers.authorization), /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
      } else {
        assert.equal(forwarded.length, 0);
        assert.ok(t.logs.some((l) => l.includes('invalid_client')), 'the refusal is logged');
      }
      for (const line of t.logs) assert.ok(!line.includes(SECRET), 'the client secret is never logged');
    } finally {
      await t.close();
    }
  });
}
