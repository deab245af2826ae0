import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startSimulator } from './index.ts';

const CHAT = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 };

test('the managed-identity endpoint (App Service protocol) issues tokens that verify against the JWKS of the OpenID configuration', async () => {
  const sim = await startSimulator({ tokensPerSecond: 0 });
  try {
    const id = sim.identity;
    const url = `${id.identityEndpoint}?api-version=2019-08-01&resource=${encodeURIComponent('https://cognitiveservices.azure.com')}&client_id=my-app`;
    const refused = await fetch(url);
    assert.equal(refused.status, 401, 'X-IDENTITY-HEADER is required');
    await refused.arrayBuffer();
    const res = await fetch(url, { headers: { 'x-identity-header': id.identityHeader } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { access_token: string; expires_on: string; client_id: string };
    assert.equal(body.client_id, 'my-app');
    assert.ok(Number(body.expires_on) > Date.now() / 1000 + 3000);
    const config = (await (await fetch(id.openIdConfigUrl)).json()) as { issuer: string; jwks_uri: string };
    assert.equal(config.issuer, id.issuer);
    const { payload } = await jwtVerify(body.access_token, createRemoteJWKSet(new URL(config.jwks_uri)), { issuer: id.issuer, audience: 'https://cognitiveservices.azure.com' });
    assert.equal(payload['appid'], 'my-app');
    assert.equal(id.counts.managedIdentity, 2);
  } finally {
    await sim.close();
  }
});

test('the OAuth2 token endpoint grants client credentials for <resource>/.default and refuses a wrong secret', async () => {
  const sim = await startSimulator({ oauthClients: { 'app-1': 's3cret' } });
  try {
    const grant = (secret: string, scope = 'https://cognitiveservices.azure.com/.default'): Promise<Response> =>
      fetch(sim.identity.tokenUrl, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'app-1', client_secret: secret, scope }) });
    const bad = await grant('nope');
    assert.equal(bad.status, 401);
    assert.equal(((await bad.json()) as { error: string }).error, 'invalid_client');
    const badScope = await grant('s3cret', 'openid');
    assert.equal(badScope.status, 400);
    await badScope.arrayBuffer();
    const ok = await grant('s3cret');
    assert.equal(ok.status, 200);
    const body = (await ok.json()) as { access_token: string; expires_in: number; token_type: string };
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 3600);
  } finally {
    await sim.close();
  }
});

test('with requireEntra the model routes take only unexpired bearer tokens the simulator issued, never a key', async () => {
  const sim = await startSimulator({ requireEntra: true, requireKey: 'k', tokensPerSecond: 0 });
  try {
    const chat = (headers: Record<string, string>): Promise<Response> =>
      fetch(`${sim.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(CHAT) });
    const statusOf = async (headers: Record<string, string>): Promise<number> => {
      const res = await chat(headers);
      await res.arrayBuffer();
      return res.status;
    };
    const aud = 'https://cognitiveservices.azure.com';
    assert.equal(await statusOf({ 'api-key': 'k' }), 401, 'a key is not enough');
    assert.equal(await statusOf({ authorization: 'Bearer k' }), 401);
    assert.equal(await statusOf({ authorization: `Bearer ${sim.identity.mint({ audience: aud, expiresInSeconds: -10 })}` }), 401, 'expired');
    assert.equal(await statusOf({ authorization: `Bearer ${sim.identity.mint({ audience: 'api://other' })}` }), 401, 'wrong audience');
    const good = sim.identity.mint({ audience: aud });
    const tampered = `${good.slice(0, good.lastIndexOf('.'))}.${Buffer.from('x'.repeat(256)).toString('base64url')}`;
    assert.equal(await statusOf({ authorization: `Bearer ${tampered}` }), 401, 'bad signature');
    assert.equal(await statusOf({ authorization: `Bearer ${good}` }), 200);
    // Tokens signed before a key rotation stay valid (the old key stays published).
    sim.identity.rotateKey();
    assert.equal(await statusOf({ authorization: `Bearer ${good}` }), 200);
    const minted = await fetch(`${sim.url}/_sim/identity/token`, { method: 'POST', body: JSON.stringify({ audience: aud }) });
    const { access_token } = (await minted.json()) as { access_token: string };
    assert.equal(await statusOf({ authorization: `Bearer ${access_token}` }), 200);
  } finally {
    await sim.close();
  }
});
