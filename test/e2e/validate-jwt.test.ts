/**
 * Client tokens end to end: `validate-jwt` (keys from the simulator's OpenID configuration) and
 * `validate-azure-ad-token` (the simulator as the Entra authority), each failure with its status
 * and message; the bearer token next to a subscription key belongs to the policies; an API without
 * subscriptions relies on validate-jwt alone; an unknown `kid` costs one JWKS refetch, not a storm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CompactEncrypt, EncryptJWT, generateKeyPair, SignJWT } from 'jose';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';
import { DEFAULT_TENANT_ID } from '../../src/simulator/identity.ts';

const AUD = 'api://tollgate';

const JWT_POLICY = `<policies>
  <inbound><base />
    <validate-jwt header-name="Authorization" require-scheme="Bearer" output-token-variable-name="jwt">
      <openid-config url="{{sim-url}}/${DEFAULT_TENANT_ID}/v2.0/.well-known/openid-configuration" />
      <audiences><audience>${AUD}</audience></audiences>
      <required-claims><claim name="roles" match="any"><value>chat</value><value>admin</value></claim></required-claims>
    </validate-jwt>
  </inbound>
  <backend><base /></backend>
  <outbound><base />
    <set-header name="x-oid" exists-action="override"><value>@(((Jwt)context.Variables["jwt"]).Claims.GetValueOrDefault("oid", "none"))</value></set-header>
  </outbound>
</policies>`;

const AAD_POLICY = `<policies>
  <inbound><base />
    <validate-azure-ad-token tenant-id="${DEFAULT_TENANT_ID}" failed-validation-httpcode="403" failed-validation-error-message="Forbidden by policy">
      <client-application-ids><application-id>client-app</application-id></client-application-ids>
      <backend-application-ids><application-id>backend-app</application-id></backend-application-ids>
    </validate-azure-ad-token>
  </inbound>
</policies>`;

async function call(t: TestGateway, path: string, headers: Record<string, string>): Promise<{ status: number; code: string | undefined; message: string | undefined; oid: string | null }> {
  const res = await fetch(`${t.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
  });
  const body = (await res.json()) as { error?: { code: string; message: string } };
  return { status: res.status, code: body.error?.code, message: body.error?.message, oid: res.headers.get('x-oid') };
}

test('validate-jwt: valid, missing, expired, wrong audience, wrong issuer, bad signature, alg none, missing claim; the bearer next to a key is the policy\'s', async () => {
  const t = await startTestGateway({ apiPolicies: JWT_POLICY });
  try {
    const id = t.sim.identity;
    const bearer = (token: string): Record<string, string> => ({ 'api-key': TEST_KEY, authorization: `Bearer ${token}` });
    const good = id.mint({ audience: AUD, subject: 'alice', claims: { roles: ['chat'] } });
    const ok = await call(t, '/v1/chat/completions', bearer(good));
    assert.equal(ok.status, 200);
    assert.match(String(ok.oid), /^[0-9a-f-]{36}$/, 'the output variable is a Jwt whose claims the outbound section reads');
    assert.equal(t.sim.requests.at(-1)?.headers.authorization, undefined, 'the client\'s token is not forwarded to the backend');

    const cases: Array<[string, Record<string, string>, number, string, string]> = [
      ['no token', { 'api-key': TEST_KEY }, 401, 'GW_ERR_JWT_MISSING', 'JWT not present.'],
      ['another scheme', { 'api-key': TEST_KEY, authorization: `Basic ${good}` }, 401, 'GW_ERR_JWT_MISSING', 'JWT not present: the Authorization header must use the Bearer scheme.'],
      ['expired', bearer(id.mint({ audience: AUD, expiresInSeconds: -60, claims: { roles: ['chat'] } })), 401, 'GW_ERR_JWT_INVALID', 'JWT has expired.'],
      ['wrong audience', bearer(id.mint({ audience: 'api://other', claims: { roles: ['chat'] } })), 401, 'GW_ERR_JWT_INVALID', 'JWT audience is not allowed.'],
      ['wrong issuer', bearer(id.mint({ audience: AUD, issuer: 'https://issuer.invalid/', claims: { roles: ['chat'] } })), 401, 'GW_ERR_JWT_INVALID', 'JWT issuer is not allowed.'],
      ['bad signature', bearer(`${good.slice(0, good.lastIndexOf('.'))}.${Buffer.alloc(256, 7).toString('base64url')}`), 401, 'GW_ERR_JWT_INVALID', 'JWT signature is invalid.'],
      ['alg none', bearer(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${good.split('.')[1]}.`), 401, 'GW_ERR_JWT_INVALID', 'JWT is not signed.'],
      ['missing claim', bearer(id.mint({ audience: AUD })), 401, 'GW_ERR_JWT_INVALID', "Required claim 'roles' is missing or has a value that is not allowed."],
      ['claim without an allowed value', bearer(id.mint({ audience: AUD, claims: { roles: ['reader'] } })), 401, 'GW_ERR_JWT_INVALID', "Required claim 'roles' is missing or has a value that is not allowed."],
      ['garbage', bearer('not-a-jwt'), 401, 'GW_ERR_JWT_INVALID', 'JWT is malformed.'],
    ];
    for (const [what, headers, status, code, message] of cases) {
      const r = await call(t, '/v1/chat/completions', headers);
      assert.deepEqual([r.status, r.code, r.message], [status, code, message], what);
    }
    assert.equal(t.sim.requests.filter((r) => r.path.endsWith('/chat/completions')).length, 1, 'only the valid request was forwarded');
    assert.equal(id.counts.openIdConfig, 1, 'the OpenID configuration was fetched once');
    assert.equal(id.counts.jwks, 1, 'the JWKS was fetched once');
    for (const line of t.logs) assert.ok(!line.includes(good.split('.')[2] as string), 'no token in the logs');
  } finally {
    await t.close();
  }
});

test('validate-jwt: an unknown kid refetches the JWKS once (a flood of them does not), and after the cooldown a rotated key is found', async () => {
  let now = Date.now();
  const t = await startTestGateway({ apiPolicies: JWT_POLICY, clock: () => now });
  try {
    const id = t.sim.identity;
    const headers = (token: string): Record<string, string> => ({ 'api-key': TEST_KEY, authorization: `Bearer ${token}` });
    assert.equal((await call(t, '/v1/chat/completions', headers(id.mint({ audience: AUD, claims: { roles: ['chat'] } })))).status, 200);
    assert.equal(id.counts.jwks, 1);
    now += 31_000; // past the refetch cooldown
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ roles: ['chat'] }).setProtectedHeader({ alg: 'RS256', kid: 'unknown-kid' }).setAudience(AUD).setIssuer(id.issuer).setExpirationTime('1h').sign(privateKey);
    const results = await Promise.all(Array.from({ length: 20 }, () => call(t, '/v1/chat/completions', headers(forged))));
    for (const r of results) assert.deepEqual([r.status, r.message], [401, 'JWT signing key was not found.']);
    assert.equal(id.counts.jwks, 2, 'twenty tokens with an unknown kid: one refetch');
    for (let i = 0; i < 5; i++) await call(t, '/v1/chat/completions', headers(forged));
    assert.equal(id.counts.jwks, 2, 'no refetch during the cooldown');

    id.rotateKey();
    now += 31_000;
    const rotated = id.mint({ audience: AUD, claims: { roles: ['admin'] } });
    assert.equal((await call(t, '/v1/chat/completions', headers(rotated))).status, 200, 'the new key is fetched and accepted');
    assert.equal(id.counts.jwks, 3);
  } finally {
    await t.close();
  }
});

test('validate-jwt alone guards an API that takes no subscription key', async () => {
  const t = await startTestGateway({
    extraApis: { open: { path: 'open', type: 'openai', backend: 'sim', subscriptionRequired: false, policies: JWT_POLICY } },
  });
  try {
    const good = t.sim.identity.mint({ audience: AUD, claims: { roles: ['chat'] } });
    assert.equal((await call(t, '/open/v1/chat/completions', { authorization: `Bearer ${good}` })).status, 200);
    const none = await call(t, '/open/v1/chat/completions', {});
    assert.deepEqual([none.status, none.code], [401, 'GW_ERR_JWT_MISSING']);
    // A subscription key sent as the bearer still identifies the subscription (and is not a JWT).
    const asKey = await call(t, '/open/v1/chat/completions', { authorization: `Bearer ${TEST_KEY}` });
    assert.deepEqual([asKey.status, asKey.code], [401, 'GW_ERR_JWT_MISSING']);
  } finally {
    await t.close();
  }
});

test('validate-azure-ad-token: the tenant\'s keys from the Entra authority, client and backend application ids, the document\'s status and message', async () => {
  const t = await startTestGateway({ apiPolicies: AAD_POLICY, config: { identity: { authorityHost: '{{sim-url}}' } } });
  try {
    const id = t.sim.identity;
    const headers = (token: string): Record<string, string> => ({ 'api-key': TEST_KEY, authorization: `Bearer ${token}` });
    assert.equal((await call(t, '/v1/chat/completions', headers(id.mint({ audience: 'api://backend-app', claims: { azp: 'client-app' } })))).status, 200);
    assert.equal((await call(t, '/v1/chat/completions', headers(id.mint({ audience: 'backend-app', claims: { appid: 'client-app', ver: '1.0' } })))).status, 200, 'v1 style: appid and a bare application id');
    const failures = [
      headers(id.mint({ audience: 'api://backend-app', claims: { azp: 'another-app' } })),
      headers(id.mint({ audience: 'api://another-backend', claims: { azp: 'client-app' } })),
      headers(id.mint({ audience: 'api://backend-app', expiresInSeconds: -5, claims: { azp: 'client-app' } })),
      { 'api-key': TEST_KEY },
    ];
    for (const h of failures) {
      const r = await call(t, '/v1/chat/completions', h);
      assert.deepEqual([r.status, r.message], [403, 'Forbidden by policy']);
    }
    assert.equal(id.counts.openIdConfig, 1);
  } finally {
    await t.close();
  }
});

test('validate-jwt decrypts encrypted tokens with <decryption-keys>: nested signed tokens are verified, a wrong key or no keys is 401, a bare claims set is unsigned', async () => {
  const signing = Buffer.alloc(32, 3);
  const enc = Buffer.alloc(32, 9);
  const policy = (keys: string): string => `<policies><inbound><base />
    <validate-jwt header-name="Authorization" output-token-variable-name="jwt">
      <issuer-signing-keys><key id="s1">${signing.toString('base64')}</key></issuer-signing-keys>
      ${keys}
      <audiences><audience>${AUD}</audience></audiences>
    </validate-jwt>
  </inbound><outbound><base />
    <set-header name="x-oid" exists-action="override"><value>@(((Jwt)context.Variables["jwt"]).Subject)</value></set-header>
  </outbound></policies>`;
  const t = await startTestGateway({
    apiPolicies: policy(`<decryption-keys><key id="other">${Buffer.alloc(32, 1).toString('base64')}</key><key id="e1">${enc.toString('base64')}</key></decryption-keys>`),
    extraApis: { nokeys: { path: 'nokeys', type: 'openai', backend: 'sim', policies: policy('') } },
  });
  try {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const signed = await new SignJWT({ sub: 'bob' }).setProtectedHeader({ alg: 'HS256', kid: 's1' }).setAudience(AUD).setExpirationTime(exp).sign(signing);
    const encrypt = (key: Uint8Array, kid: string): Promise<string> =>
      new CompactEncrypt(new TextEncoder().encode(signed)).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cty: 'JWT', kid }).encrypt(key);
    const bearer = (token: string): Record<string, string> => ({ 'api-key': TEST_KEY, authorization: `Bearer ${token}` });

    const ok = await call(t, '/v1/chat/completions', bearer(await encrypt(enc, 'e1')));
    assert.deepEqual([ok.status, ok.oid, ok.message], [200, 'bob', undefined], 'decrypted, then the inner token verified and stored');
    // Without a matching kid every configured key is tried.
    assert.equal((await call(t, '/v1/chat/completions', bearer(await encrypt(enc, 'unknown')))).status, 200);

    const wrong = await call(t, '/v1/chat/completions', bearer(await encrypt(Buffer.alloc(32, 5), 'e1')));
    assert.deepEqual([wrong.status, wrong.code, wrong.message], [401, 'GW_ERR_JWT_INVALID', 'JWT could not be decrypted.']);
    const none = await call(t, '/nokeys/v1/chat/completions', bearer(await encrypt(enc, 'e1')));
    assert.deepEqual([none.status, none.message], [401, 'JWT is encrypted and no decryption keys are configured.']);
    // HMAC keys written in the document (jose's JWKS resolvers take public keys only): a kid-less
    // token is tried against each; another key's signature is refused.
    const noKid = await new SignJWT({ sub: 'carol' }).setProtectedHeader({ alg: 'HS256' }).setAudience(AUD).setExpirationTime(exp).sign(signing);
    assert.deepEqual((await call(t, '/v1/chat/completions', bearer(noKid))).oid, 'carol');
    const forged = await new SignJWT({ sub: 'eve' }).setProtectedHeader({ alg: 'HS256', kid: 's1' }).setAudience(AUD).setExpirationTime(exp).sign(Buffer.alloc(32, 4));
    assert.deepEqual((await call(t, '/v1/chat/completions', bearer(forged))).message, 'JWT signature is invalid.');
    const bare = await new EncryptJWT({ sub: 'mallory' }).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).setAudience(AUD).setExpirationTime(exp).encrypt(enc);
    const unsigned = await call(t, '/v1/chat/completions', bearer(bare));
    assert.deepEqual([unsigned.status, unsigned.message], [401, 'JWT is not signed.'], 'encryption alone proves nothing about the issuer');
  } finally {
    await t.close();
  }
});
