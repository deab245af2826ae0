/**
 * Who the client is, as far as the gateway can tell: forwarded identity headers are believed only
 * from `gateway.trustedProxies`, from anyone else they are dropped and X-Forwarded-For is the
 * socket's address (for the backend and for `context.Request.IpAddress` alike). The client's own
 * key never travels on, in a header or in the query string; hop-by-hop headers stop here; and the
 * gateway's request id is its own, with the client's x-request-id kept for correlation.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, TEST_KEY, BACKEND_KEY, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { rawJson } from '../helpers/raw-http.ts';

const CHAT = { model: 'gpt-4o', messages: [{ role: 'user', content: 'who am i' }], max_tokens: 2 };
// What policies see, copied onto the backend request so the test can read it there.
const OBSERVE = `<policies><inbound><base />
  <set-header name="x-seen-ip" exists-action="override"><value>@(context.Request.IpAddress)</value></set-header>
  <set-header name="x-seen-xff" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("X-Forwarded-For", "none"))</value></set-header>
  <set-header name="x-seen-request-id" exists-action="override"><value>@(context.RequestId.ToString())</value></set-header>
  <set-header name="x-seen-query" exists-action="override"><value>@(context.Request.Url.QueryString)</value></set-header>
</inbound></policies>`;

const SPOOFED = {
  'X-Forwarded-For': '203.0.113.66',
  Forwarded: 'for=203.0.113.66;host=evil.example;proto=https',
  'X-Real-IP': '203.0.113.66',
  'X-Forwarded-Host': 'evil.example',
  'X-Forwarded-Proto': 'https',
  'X-Original-URL': '/admin/status',
  'X-Rewrite-URL': '/admin/status',
};

let direct: TestGateway;
let behindProxy: TestGateway;
before(async () => {
  direct = await startTestGateway({ apiPolicies: OBSERVE });
  // 127.0.0.1 (the test itself) plays a proxy; 203.0.113.0/24 is a second proxy tier in front of it.
  behindProxy = await startTestGateway({ apiPolicies: OBSERVE, config: { gateway: { listen: '127.0.0.1:0', trustedProxies: ['127.0.0.1', '203.0.113.0/24'] } } });
});
after(async () => {
  await direct.close();
  await behindProxy.close();
});

test('from an untrusted peer, forwarded identity headers are replaced by the socket address', async () => {
  const res = await rawJson(direct.url, 'POST /v1/chat/completions HTTP/1.1', { 'api-key': TEST_KEY, ...SPOOFED }, CHAT);
  assert.equal(res.status, 200, res.body);
  const seen = direct.sim.requests.at(-1)!.headers;
  assert.equal(seen['x-forwarded-for'], '127.0.0.1');
  for (const name of ['forwarded', 'x-real-ip', 'x-forwarded-host', 'x-forwarded-proto', 'x-original-url', 'x-rewrite-url']) {
    assert.equal(seen[name], undefined, `${name} must not reach the backend`);
  }
  assert.equal(seen['x-seen-ip'], '127.0.0.1', 'context.Request.IpAddress is the socket');
  assert.equal(seen['x-seen-xff'], '127.0.0.1', 'policies see the same header the backend gets');
});

test('from a trusted proxy, the client is the rightmost untrusted X-Forwarded-For entry, and the chain is extended', async () => {
  const res = await rawJson(behindProxy.url, 'POST /v1/chat/completions HTTP/1.1', { 'api-key': TEST_KEY, ...SPOOFED, 'X-Forwarded-For': '198.51.100.7, 203.0.113.9' }, CHAT);
  assert.equal(res.status, 200, res.body);
  const seen = behindProxy.sim.requests.at(-1)!.headers;
  assert.equal(seen['x-seen-ip'], '198.51.100.7');
  assert.equal(seen['x-forwarded-for'], '198.51.100.7, 203.0.113.9, 127.0.0.1');
  assert.equal(seen['x-forwarded-host'], 'evil.example', 'a trusted proxy’s headers pass');
  // An entry that is not an address ends the walk at the last trusted hop that wrote it.
  const odd = await rawJson(behindProxy.url, 'POST /v1/chat/completions HTTP/1.1', { 'api-key': TEST_KEY, 'X-Forwarded-For': 'unknown, 203.0.113.9' }, CHAT);
  assert.equal(odd.status, 200, odd.body);
  assert.equal(behindProxy.sim.requests.at(-1)!.headers['x-seen-ip'], '203.0.113.9');
});

test('a subscription key in the query string is removed before policies and the backend see the URL', async () => {
  const res = await rawJson(
    direct.url,
    `POST /v1/chat/completions?api-version=2024-10-21&subscription-key=${TEST_KEY}&Api-Key=${TEST_KEY}&ocp-apim-subscription-%6Bey=${TEST_KEY} HTTP/1.1`,
    { 'api-key': TEST_KEY },
    CHAT,
  );
  assert.equal(res.status, 200, res.body);
  const seen = direct.sim.requests.at(-1)!;
  assert.equal(seen.url, '/openai/v1/chat/completions?api-version=2024-10-21');
  assert.equal(seen.headers['x-seen-query'], '?api-version=2024-10-21');
});

test('hop-by-hop, Connection-listed and proxy credentials stop at the gateway; the client key never travels on', async () => {
  const res = await rawJson(
    direct.url,
    'POST /v1/chat/completions HTTP/1.1',
    {
      Authorization: `Bearer ${TEST_KEY}`,
      Connection: 'X-Secret, keep-alive',
      'X-Secret': 'listed-in-connection',
      'Keep-Alive': 'timeout=5',
      TE: 'trailers',
      Upgrade: 'websocket',
      'Proxy-Authorization': 'Basic cHJveHk6c2VjcmV0',
      'Proxy-Connection': 'keep-alive',
      ...SPOOFED,
    },
    CHAT,
  );
  assert.equal(res.status, 200, res.body);
  const seen = direct.sim.requests.at(-1)!.headers;
  for (const name of ['x-secret', 'keep-alive', 'te', 'upgrade', 'proxy-authorization', 'proxy-connection', 'authorization', 'x-real-ip', 'forwarded']) {
    assert.equal(seen[name], undefined, `${name} must not reach the backend`);
  }
  assert.equal(seen['x-forwarded-for'], '127.0.0.1');
  assert.equal(seen['api-key'], BACKEND_KEY);
  assert.ok(!JSON.stringify(seen).includes(TEST_KEY), 'the client key appears nowhere upstream');
  assert.ok(!(JSON.stringify(res.headers) + res.body).includes(BACKEND_KEY), 'the backend key is never echoed');
});

test('the gateway request id is unique even when clients reuse theirs, which is kept as a correlation id', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) {
    const res = await rawJson(direct.url, 'POST /v1/chat/completions HTTP/1.1', { 'api-key': TEST_KEY, 'x-request-id': 'client-dup-1' }, CHAT);
    assert.equal(res.status, 200, res.body);
    const id = res.headers['x-request-id'] ?? '';
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.equal(res.headers['x-client-request-id'], 'client-dup-1');
    const seen = direct.sim.requests.at(-1)!.headers;
    assert.equal(seen['x-request-id'], id, 'the backend gets the gateway id');
    assert.equal(seen['x-seen-request-id'], id, 'context.RequestId is the gateway id');
    ids.push(id);
  }
  assert.notEqual(ids[0], ids[1]);
  await waitFor(() => ids.every((id) => direct.usages.some((u) => u.requestId === id)), 5000, 'usage records');
  for (const id of ids) assert.equal(direct.usages.find((u) => u.requestId === id)?.clientRequestId, 'client-dup-1');
  const unsafe = await rawJson(direct.url, 'POST /v1/chat/completions HTTP/1.1', { 'api-key': TEST_KEY, 'x-request-id': 'a"b<script>' }, CHAT);
  assert.equal(unsafe.headers['x-client-request-id'], undefined, 'an unsafe id is not echoed');
});
