/**
 * Request smuggling and request-target corpus, over raw sockets: every ambiguous framing is refused
 * with 400 and a closed connection, nothing of it (nor what is pipelined behind it) reaches the
 * backend, and an absolute-form target is routed and forwarded by its path only.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, TEST_KEY, BACKEND_KEY, type TestGateway } from '../helpers/gateway.ts';
import { rawExchange, startFakeUpstream, statuses, type FakeUpstream } from '../helpers/raw-http.ts';

let t: TestGateway;
let upstream: FakeUpstream;

before(async () => {
  upstream = await startFakeUpstream();
  t = await startTestGateway({ logLevel: 'warn', backend: { url: `${upstream.url}/openai` } });
});
after(async () => {
  await t.close();
  await upstream.close();
});

const BODY = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
const HEAD = `Host: gw\r\napi-key: ${TEST_KEY}\r\nContent-Type: application/json\r\n`;
const CHUNKED = `${BODY.length.toString(16)}\r\n${BODY}\r\n0\r\n\r\n`;
/** The request an attacker hopes the gateway parses as a second, separate one. */
const SMUGGLED = `POST /v1/chat/completions HTTP/1.1\r\n${HEAD}Content-Length: ${BODY.length}\r\n\r\n${BODY}`;

const post = (headers: string, body: string): string => `POST /v1/chat/completions HTTP/1.1\r\n${HEAD}${headers}\r\n${body}`;

const CORPUS: ReadonlyArray<[string, string]> = [
  ['Content-Length and Transfer-Encoding together', post(`Content-Length: ${CHUNKED.length}\r\nTransfer-Encoding: chunked\r\n`, CHUNKED)],
  ['two equal Content-Length headers', post(`Content-Length: ${BODY.length}\r\nContent-Length: ${BODY.length}\r\n`, BODY)],
  ['two different Content-Length headers', post(`Content-Length: ${BODY.length}\r\nContent-Length: 5\r\n`, BODY)],
  ['a signed Content-Length', post(`Content-Length: +${BODY.length}\r\n`, BODY)],
  ['Transfer-Encoding: chunked, identity', post('Transfer-Encoding: chunked, identity\r\n', CHUNKED)],
  ['Transfer-Encoding: identity, chunked', post('Transfer-Encoding: identity, chunked\r\n', CHUNKED)],
  ['Transfer-Encoding: gzip, chunked', post('Transfer-Encoding: gzip, chunked\r\n', CHUNKED)],
  ['Transfer-Encoding in two headers', post('Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n', CHUNKED)],
  ['a space before the colon of Transfer-Encoding', post('Transfer-Encoding : chunked\r\n', CHUNKED)],
  ['a space before Content-Length (a continuation line)', post(`X-Pad: a\r\n Content-Length: ${BODY.length}\r\n`, BODY)],
  ['a bare CR as a line end', post(`X-Pad: a\rContent-Length: ${BODY.length}\r\n`, BODY)],
  ['an obs-fold header', post(`X-Pad: a\r\n b\r\nContent-Length: ${BODY.length}\r\n`, BODY)],
  ['two Host headers', post(`Host: other\r\nContent-Length: ${BODY.length}\r\n`, BODY)],
  ['a request target that is neither a path nor an absolute URL', `POST v1/chat/completions HTTP/1.1\r\n${HEAD}Content-Length: ${BODY.length}\r\n\r\n${BODY}`],
];

for (const [what, request] of CORPUS) {
  test(`${what}: 400, connection closed, nothing forwarded, the pipelined request behind it never parsed`, async () => {
    const seen = upstream.seen.length;
    const usages = t.usages.length;
    const res = await rawExchange(t.url, request + SMUGGLED);
    assert.equal(res.closed, true, 'the gateway closed the connection');
    assert.deepEqual(statuses(res.text), [400], res.text.slice(0, 200));
    assert.equal(upstream.seen.length, seen, 'the backend saw none of it');
    assert.equal(t.usages.length, usages, 'the smuggled request was not served');
  });
}

test('a chunk-extension flood is refused before the body is read, and nothing is forwarded', async () => {
  const seen = upstream.seen.length;
  const res = await rawExchange(t.url, post('Transfer-Encoding: chunked\r\n', `5;${'a=b;'.repeat(20_000)}\r\nhello\r\n0\r\n\r\n`) + SMUGGLED);
  assert.equal(res.closed, true);
  // llhttp's limit on extensions (CVE-2024-22019): node:http answers 413 for it, 400 for the rest.
  assert.equal(statuses(res.text).length, 1);
  assert.ok([400, 413].includes(statuses(res.text)[0] as number), res.text.slice(0, 100));
  assert.equal(upstream.seen.length, seen);
});

test('the refusal is in the OpenAI error format with a request id', async () => {
  const res = await rawExchange(t.url, post('Transfer-Encoding: identity, chunked\r\n', CHUNKED));
  const [head = '', body = ''] = res.text.split('\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 400 /);
  assert.match(head, /\r\nconnection: close/i);
  const rid = /\r\nx-request-id: ([^\r]+)/i.exec(head)?.[1];
  const parsed = JSON.parse(body) as { error: { code: string; request_id: string } };
  assert.equal(parsed.error.code, 'GW_ERR_INVALID_REQUEST');
  assert.equal(parsed.error.request_id, rid);
});

test('an absolute-form target is routed by its path and forwarded as a path, never raw', async () => {
  const seen = upstream.seen.length;
  const res = await rawExchange(t.url, `POST http://evil.example:8080/v1/chat/completions HTTP/1.1\r\n${HEAD}Content-Length: ${BODY.length}\r\nConnection: close\r\n\r\n${BODY}`);
  assert.deepEqual(statuses(res.text), [200], res.text.slice(0, 300));
  assert.equal(upstream.seen.length, seen + 1);
  const target = upstream.seen.at(-1)?.url ?? '';
  assert.equal(target, '/openai/v1/chat/completions');
  assert.equal(upstream.seen.at(-1)?.headers['api-key'], BACKEND_KEY);
});

test('an absolute-form target with a query keeps the query; one with no path is the root', async () => {
  const models = await rawExchange(t.url, `GET HTTPS://gw/v1/models?x=1 HTTP/1.1\r\n${HEAD}Connection: close\r\n\r\n`);
  assert.deepEqual(statuses(models.text), [200]);
  assert.match(models.text, /"gpt-4o"/);
  const root = await rawExchange(t.url, `GET http://gw HTTP/1.1\r\n${HEAD}Connection: close\r\n\r\n`);
  assert.deepEqual(statuses(root.text), [404]);
  assert.match(root.text, /No [a-zA-Z ]+ (at|matches) (GET )?\//);
  assert.doesNotMatch(root.text, /http:\/\/gw/);
});

test('well-formed pipelined requests on one connection are all served', async () => {
  const seen = upstream.seen.length;
  const one = `POST /v1/chat/completions HTTP/1.1\r\n${HEAD}Content-Length: ${BODY.length}\r\n\r\n${BODY}`;
  const chunked = post('Transfer-Encoding: chunked\r\n', CHUNKED);
  const last = `POST /v1/chat/completions HTTP/1.1\r\n${HEAD}Content-Length: ${BODY.length}\r\nConnection: close\r\n\r\n${BODY}`;
  const res = await rawExchange(t.url, one + chunked + last);
  assert.deepEqual(statuses(res.text), [200, 200, 200]);
  assert.equal(upstream.seen.length, seen + 3);
});
