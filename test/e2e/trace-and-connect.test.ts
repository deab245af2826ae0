/**
 * TRACE and CONNECT: a backend may echo TRACE (RFC 9110 §9.3.8) with every header it received,
 * so a TRACE forwarded with the backend's credentials hands them to the client. Both methods are
 * refused with 405 unless an API allows TRACE, and an allowed TRACE carries no credentials
 * (set-method refuses TRACE and CONNECT when the document loads). CONNECT is answered with 405 in the gateway's format.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { startTestGateway, TEST_KEY, BACKEND_KEY, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/raw-http.ts';

const BEARER = 'bearer-canary-5d1e77';
let t: TestGateway;
let echo: Server;
const seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders }> = [];

before(async () => {
  // The backend RFC 9110 allows: TRACE answered with the request it received, headers and all.
  echo = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (req.method === 'TRACE') {
      res.writeHead(200, { 'content-type': 'message/http' });
      res.end(`TRACE ${req.url} HTTP/1.1\r\n` + Object.entries(req.headers).map(([k, v]) => `${k}: ${String(v)}`).join('\r\n'));
      return;
    }
    res.end('ok');
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(echo.address() as { port: number }).port}`;
  const policySetsAuthorization = `<policies><inbound><base /><set-header name="authorization" exists-action="override"><value>Bearer ${BEARER}-policy</value></set-header></inbound></policies>`;
  t = await startTestGateway({
    extraBackends: {
      'echo-key': { url, credentials: { header: { 'api-key': '{{backend-key}}' } } },
      'echo-bearer': { url, credentials: { bearer: BEARER } },
    },
    extraApis: {
      raw: { path: 'raw', type: 'http', backend: 'echo-key' },
      ai: { path: 'ai', type: 'openai', backend: 'echo-bearer' },
      traced: { path: 'traced', type: 'http', backend: 'echo-bearer', allowTrace: true, policies: policySetsAuthorization },
    },
  });
});
after(async () => {
  await t.close();
  echo.closeAllConnections();
  await new Promise<void>((r) => echo.close(() => r()));
});

function assertNoCredential(text: string): void {
  for (const secret of [BACKEND_KEY, BEARER, TEST_KEY]) assert.ok(!text.includes(secret), `credential ${secret.slice(0, 8)}… must not come back`);
}

test('TRACE is refused with 405 on http APIs and on the OpenAI pass-through, and never forwarded', async () => {
  const before = seen.length;
  for (const target of ['/raw/anything', '/ai/v1/files', '/ai/deployments/gpt-4o/chat/completions', '/v1/chat/completions']) {
    const res = await rawRequest(t.url, `TRACE ${target} HTTP/1.1\r\napi-key: ${TEST_KEY}`);
    assert.equal(res.status, 405, `${target}: ${res.body}`);
    assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'GW_ERR_METHOD_NOT_ALLOWED');
    assertNoCredential(JSON.stringify(res.headers) + res.body);
  }
  assert.equal(seen.length, before, 'no TRACE reached a backend');
});

test('an API that allows TRACE forwards it without any credential, the backend’s or a policy’s', async () => {
  const res = await rawRequest(t.url, `TRACE /traced/echo HTTP/1.1\r\napi-key: ${TEST_KEY}\r\ncookie: session=client-cookie\r\nx-visible: yes`);
  assert.equal(res.status, 200, res.body);
  assert.match(res.body, /^TRACE \/echo HTTP\/1\.1/);
  assert.match(res.body, /x-visible: yes/, 'the echo is real');
  assert.doesNotMatch(res.body, /authorization|api-key|cookie/i);
  assertNoCredential(res.body);
});

test('other methods still carry the backend credential', async () => {
  const res = await rawRequest(t.url, `GET /raw/anything HTTP/1.1\r\napi-key: ${TEST_KEY}`);
  assert.equal(res.status, 200, res.body);
  assert.equal(seen.at(-1)?.method, 'GET');
  assert.equal(seen.at(-1)?.headers['api-key'], BACKEND_KEY);
});

test('CONNECT gets a 405 in the gateway format, with a request id and a usage record, and the connection closes', async () => {
  const before = seen.length;
  const res = await rawRequest(t.url, `CONNECT 127.0.0.1:${(echo.address() as { port: number }).port} HTTP/1.1\r\napi-key: ${TEST_KEY}`);
  assert.equal(res.status, 405, res.body);
  const err = JSON.parse(res.body) as { error: { code: string; request_id: string } };
  assert.equal(err.error.code, 'GW_ERR_METHOD_NOT_ALLOWED');
  assert.equal(err.error.request_id, res.headers['x-request-id']);
  assert.equal(res.headers['connection'], 'close');
  await waitFor(() => t.usages.some((u) => u.requestId === err.error.request_id), 5000, 'usage record');
  assert.equal(t.usages.find((u) => u.requestId === err.error.request_id)?.status, 405);
  assert.equal(seen.length, before, 'no tunnel, nothing reached the backend');
});
