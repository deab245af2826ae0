/**
 * What crosses the proxy: the client's gateway key and hop-by-hop headers stop at the gateway,
 * the backend's credential is added by the gateway, and neither key is ever echoed back.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { startTestGateway, TEST_KEY, BACKEND_KEY, type TestGateway } from '../helpers/gateway.ts';

let t: TestGateway;
before(async () => {
  t = await startTestGateway();
});
after(() => t.close());

function rawPost(headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'headers' }] });
    const url = new URL(`${t.url}/v1/chat/completions`);
    const req = httpRequest(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } },
      (res) => {
        let data = '';
        res.on('data', (c: Buffer) => (data += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('the client key and hop-by-hop headers are not forwarded; the backend credential is', async () => {
  const res = await rawPost({
    'ocp-apim-subscription-key': TEST_KEY,
    authorization: 'Bearer client-token-should-not-pass',
    connection: 'keep-alive, x-drop-me',
    'x-drop-me': 'listed in Connection',
    'keep-alive': 'timeout=5',
    te: 'trailers',
    'proxy-authorization': 'Basic c2VjcmV0',
    'x-custom': 'kept',
  });
  assert.equal(res.status, 200, res.body);
  const seen = t.sim.requests.at(-1)!.headers;
  assert.equal(seen['api-key'], BACKEND_KEY, 'the backend gets the gateway-held credential');
  for (const name of ['authorization', 'ocp-apim-subscription-key', 'x-drop-me', 'keep-alive', 'te', 'proxy-authorization']) {
    assert.equal(seen[name], undefined, `${name} must not reach the backend`);
  }
  assert.equal(seen['x-custom'], 'kept', 'end-to-end headers pass through');
  assert.equal(seen['x-request-id'], res.headers['x-request-id'], 'the backend sees the gateway request id');
});

test('a client api-key header cannot override the backend credential', async () => {
  const res = await rawPost({ 'api-key': TEST_KEY });
  assert.equal(res.status, 200);
  assert.equal(t.sim.requests.at(-1)!.headers['api-key'], BACKEND_KEY);
});

test('neither the subscription key nor the backend key appears in the response or the logs', async () => {
  const res = await rawPost({ 'api-key': TEST_KEY });
  const whole = JSON.stringify(res.headers) + res.body;
  assert.ok(!whole.includes(TEST_KEY));
  assert.ok(!whole.includes(BACKEND_KEY));
  const logs = t.logs.join('\n');
  assert.ok(logs.length > 0, 'debug logging is on in tests, so there is something to scan');
  assert.ok(!logs.includes(TEST_KEY), 'subscription key in logs');
  assert.ok(!logs.includes(BACKEND_KEY), 'backend key in logs');
});

test('the backend response keeps its own headers, minus hop-by-hop ones, plus the gateway request id', async () => {
  const res = await rawPost({ 'api-key': TEST_KEY });
  assert.equal(res.headers['x-sim-name'], 'sim');
  assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  assert.equal(res.headers['content-length'], String(Buffer.byteLength(res.body)));
});
