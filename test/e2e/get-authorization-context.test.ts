/**
 * `get-authorization-context` and the `Authorization` expression type (APIM's credential manager):
 * a configured authorization's token reaches the backend through `set-header`, is fetched once and
 * refreshed ahead of expiry (refresh tokens rotated), a static token comes from a secret named
 * value, and a missing authorization fails as APIM does (500, or null with ignore-error).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestGateway, TEST_KEY, waitFor } from '../helpers/gateway.ts';
import { DEFAULT_TENANT_ID } from '../../src/simulator/identity.ts';
import { ConfigError, loadConfigObject } from '../../src/config/load.ts';
import { buildRuntime } from '../../src/gateway/runtime.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import { createLogger } from '../../src/observability/logger.ts';

const SECRET = 'gh-client-secret-canary-93ad';

function chat(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }], max_tokens: 3 }),
  });
}

/** The corpus' MCP pattern (model-context-protocol github policy), sending the token in x-upstream-auth. */
const policy = (provider: string, id: string, extra = ''): string => `<policies>
  <inbound>
    <base />
    <get-authorization-context provider-id="${provider}" authorization-id="${id}" context-variable-name="auth-context" identity-type="managed" ${extra} />
    <set-header name="x-upstream-auth" exists-action="override">
      <value>@("Bearer " + ((Authorization)context.Variables.GetValueOrDefault("auth-context"))?.AccessToken)</value>
    </set-header>
    <set-header name="x-token-type" exists-action="override">
      <value>@(((Authorization)context.Variables.GetValueOrDefault("auth-context"))?.Claims.GetValueOrDefault("token_type", "none").ToString() ?? "null")</value>
    </set-header>
  </inbound>
</policies>`;

const forwarded = (t: Awaited<ReturnType<typeof startTestGateway>>): Array<Record<string, unknown>> =>
  t.sim.requests.filter((r) => r.path.endsWith('/chat/completions')).map((r) => r.headers);

test('client credentials: the authorization\'s token reaches the backend via set-header, one grant for many requests', async () => {
  const t = await startTestGateway({
    sim: { oauthClients: { 'github-app': SECRET } },
    apiPolicies: policy('github', 'mcp'),
    extraNamedValues: { 'gh-secret': { value: SECRET, secret: true } },
    config: {
      authorizations: {
        github: { mcp: { clientCredentials: { tokenUrl: `{{sim-url}}/${DEFAULT_TENANT_ID}/oauth2/v2.0/token`, clientId: 'github-app', clientSecret: '{{gh-secret}}', scope: 'api://github-proxy/.default' } } },
      },
    },
  });
  try {
    const results = await Promise.all(Array.from({ length: 6 }, () => chat(t.url)));
    for (const res of results) assert.equal(res.status, 200, `${await res.text()}\n${t.logs.filter((l) => l.includes('authorization')).join('\n')}`);
    assert.equal(t.sim.identity.counts.oauth2, 1, 'one grant for six concurrent requests');
    const seen = forwarded(t);
    assert.equal(seen.length, 6);
    for (const h of seen) {
      assert.match(String(h['x-upstream-auth']), /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/, 'the access token (a JWT from the simulator)');
      assert.equal(h['x-token-type'], 'Bearer', 'Claims holds the token response\'s other fields');
    }
    // A seventh request, once the token is cached, is a cache hit; /metrics shows fetches and hits.
    assert.equal((await chat(t.url)).status, 200);
    const metrics = await (await fetch(`${t.gw.adminUrl}/metrics`)).text();
    assert.match(metrics, /tollgate_identity_token_fetches_total\{kind="authorization",result="ok"\} 1\n/);
    assert.match(metrics, /tollgate_identity_token_fetches_total\{kind="authorization",result="error"\} 0\n/);
    assert.match(metrics, /tollgate_identity_token_cache_hits_total\{kind="authorization"\} [1-9]\d*\n/);
    const token = String(seen[0]?.['x-upstream-auth']).slice('Bearer '.length);
    for (const line of t.logs) {
      assert.ok(!line.includes(SECRET), 'the client secret is never logged');
      assert.ok(!line.includes(token), 'the token is never logged');
    }
  } finally {
    await t.close();
  }
});

/** A token endpoint that only takes the refresh token it issued last (rotation), as GitHub's does. */
async function refreshTokenEndpoint(): Promise<{ url: string; grants: string[]; close(): Promise<void> }> {
  const grants: string[] = [];
  let current = 'rt-1';
  let n = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      grants.push(`${form.get('grant_type')} ${form.get('refresh_token')} ${form.get('client_id')}`);
      res.setHeader('content-type', 'application/json');
      if (form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== current) {
        res.statusCode = 400;
        res.end(JSON.stringify({ error: 'invalid_grant' }));
        return;
      }
      n++;
      current = `rt-${n + 1}`;
      res.end(JSON.stringify({ access_token: `gho-access-${n}`, token_type: 'bearer', expires_in: 3600, refresh_token: current, scope: 'repo' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/login/oauth/access_token`, grants, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

test('refresh token: the token is refreshed before it expires, with the rotated refresh token, while requests keep the current one', async () => {
  const endpoint = await refreshTokenEndpoint();
  const clock = { now: Date.UTC(2026, 0, 1) };
  const t = await startTestGateway({
    clock: () => clock.now,
    apiPolicies: policy('github', 'user'),
    extraNamedValues: { 'gh-refresh': { value: 'rt-1', secret: true } },
    config: { authorizations: { github: { user: { refreshToken: { tokenUrl: endpoint.url, clientId: 'gh-app', refreshToken: '{{gh-refresh}}' } } } } },
  });
  try {
    assert.equal((await chat(t.url)).status, 200);
    assert.equal((await chat(t.url)).status, 200);
    assert.deepEqual(endpoint.grants, ['refresh_token rt-1 gh-app'], 'the second request is served from the cache');
    // 40 minutes into a one-hour token: past half its life, still valid. The request is served with
    // the current token while one refresh runs in the background.
    clock.now += 40 * 60_000;
    assert.equal((await chat(t.url)).status, 200);
    await waitFor(() => endpoint.grants.length === 2, 10_000, 'the background refresh');
    assert.deepEqual(endpoint.grants, ['refresh_token rt-1 gh-app', 'refresh_token rt-2 gh-app'], 'the rotated refresh token is used');
    // The refresh's answer is stored as soon as it arrives; a request after that carries the new token.
    for (let i = 0; i < 200 && forwarded(t).at(-1)?.['x-upstream-auth'] !== 'Bearer gho-access-2'; i++) assert.equal((await chat(t.url)).status, 200);
    assert.equal(forwarded(t).at(-1)?.['x-upstream-auth'], 'Bearer gho-access-2', 'the refreshed token is in use');
    assert.equal(endpoint.grants.length, 2, 'one refresh');
    const seen = forwarded(t).map((h) => h['x-upstream-auth']);
    assert.deepEqual(seen.slice(0, 3), ['Bearer gho-access-1', 'Bearer gho-access-1', 'Bearer gho-access-1'], 'no request waited for the refresh');
    assert.equal(forwarded(t)[0]?.['x-token-type'], 'bearer');
  } finally {
    await t.close();
    await endpoint.close();
  }
});

test('a static token from a secret named value; ids from request headers; an unknown one is 500, or null with ignore-error', async () => {
  const dynamic = (extra: string): string => policy('@(context.Request.Headers.GetValueOrDefault("providerId", ""))', '@(context.Request.Headers.GetValueOrDefault("authorizationId", ""))', extra);
  const t = await startTestGateway({
    apiPolicies: dynamic('ignore-error="@(context.Request.Headers.GetValueOrDefault("x-ignore", "false") == "true")"'),
    extraNamedValues: { 'sn-token': { value: 'servicenow-static-token-1', secret: true } },
    config: { authorizations: { servicenow: { shared: { token: '{{sn-token}}' } } } },
  });
  try {
    const ok = await chat(t.url, { providerId: 'servicenow', authorizationId: 'shared' });
    assert.equal(ok.status, 200);
    assert.equal(forwarded(t)[0]?.['x-upstream-auth'], 'Bearer servicenow-static-token-1');
    assert.equal(forwarded(t)[0]?.['x-token-type'], 'none', 'a static token has no claims');

    const missing = await chat(t.url, { providerId: 'servicenow', authorizationId: 'nope' });
    assert.equal(missing.status, 500);
    const body = (await missing.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'GW_ERR_AUTHORIZATION_CONTEXT');
    assert.ok(!body.error.message.includes('nope'), 'request input is not echoed');
    assert.equal(forwarded(t).length, 1, 'nothing forwarded');

    const ignored = await chat(t.url, { providerId: 'servicenow', authorizationId: 'nope', 'x-ignore': 'true' });
    assert.equal(ignored.status, 200);
    // `"Bearer " + null` is "Bearer " (the trailing space does not survive HTTP header parsing).
    assert.equal(forwarded(t)[1]?.['x-upstream-auth'], 'Bearer', 'the variable is null: `?.AccessToken` gives null');
    assert.equal(forwarded(t)[1]?.['x-token-type'], 'null');
    for (const line of t.logs) assert.ok(!line.includes('servicenow-static-token-1'), 'the token is never logged');
  } finally {
    await t.close();
  }
});

function loadProblems(config: Record<string, unknown>): string[] {
  const base = {
    namedValues: { plain: { value: 'not-secret-token' }, tok: { value: 'a-secret-token-1', secret: true } },
    backends: { b: { url: 'http://127.0.0.1:9/openai' } },
    apis: { a: { path: 'openai', type: 'openai', backend: 'b' } },
  };
  try {
    const loaded = loadConfigObject({ ...base, ...config }, {}, 'test.yaml');
    const runtime = buildRuntime(loaded, { metrics: new Metrics({ defaultMetrics: false }), logger: createLogger('silent'), now: () => performance.now() });
    void runtime.close();
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

test('load errors: a secret outside secret named values, no or two sources, a constant id that is not configured, identity-type jwt', () => {
  assert.deepEqual(loadProblems({ authorizations: { gh: { a: { token: '{{plain}}' } } } }), [
    'authorizations.gh.a.token: must be a secret named value reference, e.g. "{{github-token}}" with secret: true',
  ]);
  assert.deepEqual(loadProblems({ authorizations: { gh: { a: {} } } }), ['authorizations.gh.a: an authorization needs exactly one of clientCredentials, refreshToken and token']);
  const doc = (attrs: string): Record<string, unknown> => ({
    authorizations: { github: { mcp: { token: '{{tok}}' } } },
    policies: `<policies><inbound><get-authorization-context ${attrs} context-variable-name="v" /></inbound></policies>`,
  });
  assert.deepEqual(loadProblems(doc('provider-id="githbu" authorization-id="mcp"')), [
    'policies: <get-authorization-context> attribute "provider-id" names provider "githbu", which is not defined under authorizations; did you mean "github"?',
  ]);
  assert.deepEqual(loadProblems(doc('provider-id="github" authorization-id="mpc"')), [
    'policies: <get-authorization-context> attribute "authorization-id" names authorization "mpc", which is not defined under authorizations.github; did you mean "mcp"?',
  ]);
  assert.match(loadProblems(doc('provider-id="github" authorization-id="mcp" identity-type="jwt" identity="@(context.Request.Headers.GetValueOrDefault(&quot;Authorization&quot;, &quot;&quot;))"'))[0] ?? '', /identity" is not supported/);
  assert.deepEqual(loadProblems(doc('provider-id="github" authorization-id="mcp"')), []);
});
