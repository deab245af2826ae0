/**
 * `context.Response.Body` in outbound policies (APIM: an outbound policy can read the backend's
 * answer). Tollgate streams most answers through; a pipeline whose outbound expressions read the
 * body (decided at load) has the answer held, bounded by `gateway.maxResponseBytes`, so the
 * expression sees it. Through real sockets: a non-metered API with a plain-text answer, the
 * bound, and a streamed (SSE) chat answer, which stays a stream and whose Body is null.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';

const SMALL = 'hello from a plain-text backend';
const LARGE = 'x'.repeat(8192);

const READS_BODY = `<policies><inbound><base /></inbound><outbound><base />
  <set-variable name="body" value="@(context.Response.Body == null ? "(null)" : context.Response.Body.As<string>(preserveContent: true))" />
  <set-header name="x-body-seen" exists-action="override"><value>@(((string)context.Variables["body"]).Length.ToString())</value></set-header>
</outbound></policies>`;
const IGNORES_BODY = '<policies><inbound><base /></inbound><outbound><base /><set-header name="x-status-seen" exists-action="override"><value>@(context.Response.StatusCode.ToString())</value></set-header></outbound></policies>';

let backend: Server;
let t: TestGateway;

before(async () => {
  backend = createServer((req, res) => {
    const body = req.url === '/large' ? LARGE : SMALL;
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const port = (backend.address() as { port: number }).port;
  t = await startTestGateway({
    config: { gateway: { listen: '127.0.0.1:0', maxResponseBytes: 4096 } },
    extraBackends: { plain: { url: `http://127.0.0.1:${port}` } },
    extraApis: {
      reads: { path: 'reads', type: 'http', backend: 'plain', policies: READS_BODY },
      ignores: { path: 'ignores', type: 'http', backend: 'plain', policies: IGNORES_BODY },
    },
    apiPolicies: READS_BODY,
  });
});

after(async () => {
  await t.close();
  backend.closeAllConnections();
  await new Promise<void>((r) => backend.close(() => r()));
});

const get = (path: string): Promise<Response> => fetch(`${t.url}/${path}`, { headers: { 'api-key': TEST_KEY } });

test('an outbound expression reads the body of a non-metered plain-text answer, and the client still gets the answer unchanged', async () => {
  const res = await get('reads/small');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-body-seen'), String(SMALL.length));
  assert.equal(await res.text(), SMALL);
});

test('a pipeline whose outbound does not read the body serves the same answer (streamed through)', async () => {
  const res = await get('ignores/small');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-status-seen'), '200');
  assert.equal(await res.text(), SMALL);
});

test('an answer larger than gateway.maxResponseBytes is not held: Body is null and the client gets every byte', async () => {
  const res = await get('reads/large');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-body-seen'), String('(null)'.length));
  assert.equal(await res.text(), LARGE);
});

test('a streamed (SSE) chat answer stays a stream: Body is null in outbound and the stream reaches the client whole', async () => {
  const res = await fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hello' }] }),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.equal(res.headers.get('x-body-seen'), String('(null)'.length));
  const text = await res.text();
  assert.match(text, /data: \[DONE\]/);
});

test('a JSON chat answer is read in outbound as before (metered answers were always held)', async () => {
  const res = await fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] }),
  });
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.equal(res.headers.get('x-body-seen'), String(text.length));
});
