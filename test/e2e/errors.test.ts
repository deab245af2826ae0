/**
 * Every failure the client can see comes back in the OpenAI error format with a stable code,
 * the right status, and the request id in both the header and the body.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';

let t: TestGateway;
let deadPort: number;

before(async () => {
  // A port that was free a moment ago and has no listener: connections are refused.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  deadPort = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  t = await startTestGateway({
    config: {
      gateway: { listen: '127.0.0.1:0', maxBodyBytes: 2048 },
    },
    extraBackends: {
      dead: { url: `http://127.0.0.1:${deadPort}/openai` },
      slow: { urlFromSim: true, timeouts: { connectMs: 1000, responseHeadersMs: 300, idleStreamMs: 1000 } },
    },
    extraApis: {
      'dead-api': { path: 'dead', type: 'openai', backend: 'dead' },
      'slow-api': { path: 'slow', type: 'openai', backend: 'slow' },
    },
  });
});
after(() => t.close());

interface ErrorBody {
  error: { message: string; type: string; code: string; param: string | null; request_id: string };
}

async function expectError(res: Response, status: number, code: string): Promise<ErrorBody> {
  assert.equal(res.status, status);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  const body = (await res.json()) as ErrorBody;
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
  assert.ok('param' in body.error && 'type' in body.error);
  const rid = res.headers.get('x-request-id');
  assert.ok(rid !== null && rid.length > 0);
  assert.equal(body.error.request_id, rid);
  return body;
}

const chatBody = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
const post = (path: string, headers: Record<string, string>, body: string = chatBody): Promise<Response> =>
  fetch(t.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

test('a missing key is a 401 GW_ERR_AUTH_MISSING_KEY', async () => {
  await expectError(await post('/v1/chat/completions', {}), 401, 'GW_ERR_AUTH_MISSING_KEY');
});

test('a wrong key is a 401 GW_ERR_AUTH_INVALID_KEY, in every header the key may come in', async () => {
  const wrong: Array<Record<string, string>> = [{ 'api-key': 'tg-wrong-000000000000' }, { 'ocp-apim-subscription-key': 'tg-wrong-000000000000' }, { authorization: 'Bearer tg-wrong-000000000000' }];
  for (const h of wrong) {
    const body = await expectError(await post('/v1/chat/completions', h), 401, 'GW_ERR_AUTH_INVALID_KEY');
    assert.ok(!JSON.stringify(body).includes('tg-wrong'), 'the presented key is never echoed');
  }
});

test('the key is accepted as api-key, Ocp-Apim-Subscription-Key and Authorization: Bearer', async () => {
  const forms: Array<Record<string, string>> = [{ 'api-key': TEST_KEY }, { 'Ocp-Apim-Subscription-Key': TEST_KEY }, { authorization: `Bearer ${TEST_KEY}` }];
  for (const h of forms) {
    const res = await post('/v1/chat/completions', h);
    assert.equal(res.status, 200, JSON.stringify(h));
    await res.arrayBuffer();
  }
});

test('an unknown path is a 404 GW_ERR_ROUTE_NOT_FOUND and an unknown deployment a 404 GW_ERR_DEPLOYMENT_NOT_FOUND', async () => {
  await expectError(await post('/v2/nothing', { 'api-key': TEST_KEY }), 404, 'GW_ERR_ROUTE_NOT_FOUND');
  await expectError(await post('/openai/deployments/nope/chat/completions?api-version=2024-10-21', { 'api-key': TEST_KEY }), 404, 'GW_ERR_DEPLOYMENT_NOT_FOUND');
  const body = await expectError(
    await post('/v1/chat/completions', { 'api-key': TEST_KEY }, JSON.stringify({ model: 'gpt-99', messages: [] })),
    404,
    'GW_ERR_DEPLOYMENT_NOT_FOUND',
  );
  assert.equal(body.error.param, 'model');
});

test('malformed JSON is a 400 GW_ERR_INVALID_JSON and never reaches the backend', async () => {
  const before = t.sim.stats.requests;
  await expectError(await post('/v1/chat/completions', { 'api-key': TEST_KEY }, '{"model": "gpt-4o", "messages": ['), 400, 'GW_ERR_INVALID_JSON');
  await expectError(await post('/v1/chat/completions', { 'api-key': TEST_KEY }, '[1,2,3]'), 400, 'GW_ERR_INVALID_JSON');
  assert.equal(t.sim.stats.requests, before);
});

test('a body over the limit is a 413 GW_ERR_BODY_TOO_LARGE, with Content-Length and chunked', async () => {
  const big = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(5000) }] });
  await expectError(await post('/v1/chat/completions', { 'api-key': TEST_KEY }, big), 413, 'GW_ERR_BODY_TOO_LARGE');
  // Chunked: no Content-Length, so the limit is enforced while reading.
  const status = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest(`${t.url}/v1/chat/completions`, { method: 'POST', headers: { 'api-key': TEST_KEY, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    for (let i = 0; i < 5; i++) req.write('x'.repeat(1000));
    req.end();
  });
  assert.equal(status.status, 413);
  assert.equal((JSON.parse(status.body) as ErrorBody).error.code, 'GW_ERR_BODY_TOO_LARGE');
});

test('an unreachable backend is a 502 GW_ERR_BACKEND_UNREACHABLE that does not reveal the backend URL', async () => {
  const body = await expectError(await post('/dead/v1/chat/completions', { 'api-key': TEST_KEY }), 502, 'GW_ERR_BACKEND_UNREACHABLE');
  assert.ok(!JSON.stringify(body).includes(String(deadPort)));
});

test('a backend that sends no headers in time is a 504 GW_ERR_BACKEND_TIMEOUT', async () => {
  const started = Date.now();
  await expectError(await post('/slow/v1/chat/completions', { 'api-key': TEST_KEY, 'x-sim-fail': 'hang' }), 504, 'GW_ERR_BACKEND_TIMEOUT');
  assert.ok(Date.now() - started < 3000);
});

test('the request id is always the gateway’s own; a safe client x-request-id is echoed as the correlation id', async () => {
  const ok = await post('/v1/chat/completions', { 'api-key': TEST_KEY, 'x-request-id': 'client-abc.123' });
  assert.match(ok.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  assert.equal(ok.headers.get('x-client-request-id'), 'client-abc.123');
  await ok.arrayBuffer();
  const bad = await post('/v1/chat/completions', { 'api-key': TEST_KEY, 'x-request-id': 'a b<script>' });
  assert.match(bad.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  assert.equal(bad.headers.get('x-client-request-id'), null);
  await bad.arrayBuffer();
});

test('a wrong method on a known operation is a 405', async () => {
  const res = await fetch(`${t.url}/v1/chat/completions`, { headers: { 'api-key': TEST_KEY } });
  await expectError(res, 405, 'GW_ERR_METHOD_NOT_ALLOWED');
});
