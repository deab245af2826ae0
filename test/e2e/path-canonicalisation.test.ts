/**
 * One spelling per path: a trailing slash, `//`, `.`/`..` segments and escapes of unreserved
 * characters resolve to the canonical path before routing, so a chat call stays a metered chat
 * call under its token limit and the backend sees exactly the path the gateway checked. What has
 * no single meaning (encoded slashes, `..` above the root, double encoding) is refused with 400.
 * Requests go over raw sockets: a client library would normalise these paths itself.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { startTestGateway, TEST_KEY, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { rawJson, rawRequest } from '../helpers/raw-http.ts';

const CHAT = { model: 'gpt-4o', messages: [{ role: 'user', content: 'which path' }], max_tokens: 20 };
const KEY = { 'api-key': TEST_KEY };

let t: TestGateway;
let plain: Server;
const plainSeen: string[] = [];

before(async () => {
  // An http-type API's backend: records the raw request target it receives.
  plain = createServer((req: IncomingMessage, res) => {
    plainSeen.push(req.url ?? '');
    res.end('ok');
  });
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  t = await startTestGateway({
    apiPolicies: `<policies><inbound><base /><llm-token-limit tokens-per-minute="600" counter-key="@(context.Subscription.Id)" estimate-prompt-tokens="true" /></inbound></policies>`,
    extraBackends: { plain: { url: `http://127.0.0.1:${(plain.address() as { port: number }).port}/base` } },
    extraApis: {
      files: { path: 'files', type: 'http', backend: 'plain' },
      // A path computed from a request header: the rewritten path obeys the same rule.
      rewritten: {
        path: 'rewritten',
        type: 'http',
        backend: 'plain',
        policies: '<policies><inbound><base /><rewrite-uri template="@(context.Request.Headers.GetValueOrDefault(&quot;x-target&quot;, &quot;/&quot;))" /></inbound></policies>',
      },
    },
  });
});
after(async () => {
  await t.close();
  plain.closeAllConnections();
  await new Promise<void>((r) => plain.close(() => r()));
});

async function lastUsage(requestId: string | undefined): Promise<(typeof t.usages)[number]> {
  await waitFor(() => t.usages.some((u) => u.requestId === requestId), 5000, 'usage record');
  return t.usages.find((u) => u.requestId === requestId)!;
}

test('a trailing slash, empty segments and dot segments name the same metered chat operation', async () => {
  const spellings = [
    'POST /v1/chat/completions/ HTTP/1.1',
    'POST //v1//chat/completions HTTP/1.1',
    'POST /v1/./chat/completions HTTP/1.1',
    'POST /v1/models/../chat/completions HTTP/1.1',
    'POST /v1/%63hat/completions HTTP/1.1',
    'POST /openai/deployments/gpt-4o/chat/completions/?api-version=2024-10-21 HTTP/1.1',
    'POST /openai/deployments/gpt-4o/chat/%2e/completions?api-version=2024-10-21 HTTP/1.1',
  ];
  for (const line of spellings) {
    const res = await rawJson(t.url, line, KEY, CHAT);
    assert.equal(res.status, 200, `${line}: ${res.body}`);
    const usage = await lastUsage(res.headers['x-request-id']);
    assert.equal(usage.operation, 'ChatCompletions_Create', line);
    assert.ok(usage.totalTokens > 0, `${line} is metered`);
    const seen = t.sim.requests.at(-1)!;
    assert.match(seen.path, /^\/openai\/(v1|deployments\/gpt-4o)\/chat\/completions$/, `${line}: the backend sees the canonical path`);
  }
});

test('the token limit holds whatever the spelling: trailing-slash calls are refused once the minute is spent', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 12 && !statuses.includes(429); i++) {
    const res = await rawJson(t.url, 'POST /v1/chat/completions/ HTTP/1.1', { ...KEY, 'x-sim-completion-tokens': '100' }, { ...CHAT, max_tokens: 100 });
    statuses.push(res.status);
  }
  assert.ok(statuses.includes(429), `a 429 came: ${statuses.join(',')}`);
});

test('encoded dot segments cannot reach an undeclared deployment', async () => {
  const before = t.sim.requests.length;
  for (const line of [
    'POST /openai/deployments/gpt-4o/%2e%2e/undeclared/chat/completions?api-version=2024-10-21 HTTP/1.1',
    'POST /openai/deployments/gpt-4o/%2E%2E/undeclared/chat/completions?api-version=2024-10-21 HTTP/1.1',
    'POST /openai/deployments/gpt-4o/.%2e/undeclared/chat/completions?api-version=2024-10-21 HTTP/1.1',
  ]) {
    const res = await rawJson(t.url, line, KEY, CHAT);
    assert.equal(res.status, 404, `${line}: ${res.body}`);
    assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'GW_ERR_DEPLOYMENT_NOT_FOUND', line);
  }
  assert.equal(t.sim.requests.length, before, 'nothing reached the backend');
});

test('paths with no single meaning are refused with 400 before routing, authentication or the backend', async () => {
  const before = t.sim.requests.length;
  const seenBefore = plainSeen.length;
  for (const target of [
    '/openai/deployments/gpt-4o%2Fchat/completions',
    '/openai/deployments/gpt-4o%2fchat/completions',
    '/files/a%5Cb',
    '/files/a\\..\\b',
    '/files/../../etc/passwd',
    '/..',
    '/files/%252e%252e/admin',
    '/files/%2e%2e%2fadmin',
    '/files/%zz',
    '/files/a%2',
    '/files/a%00b',
    '/files/..;/admin',
  ]) {
    const res = await rawRequest(t.url, `GET ${target} HTTP/1.1\r\napi-key: ${TEST_KEY}`);
    assert.equal(res.status, 400, `${target}: ${res.body}`);
    const err = JSON.parse(res.body) as { error: { code: string; request_id: string } };
    assert.equal(err.error.code, 'GW_ERR_INVALID_PATH', target);
    assert.equal(err.error.request_id, res.headers['x-request-id']);
  }
  assert.equal(t.sim.requests.length, before);
  assert.equal(plainSeen.length, seenBefore, 'the http backend saw none of them');
});

test('an http API forwards the canonical path, never the spelling the client sent', async () => {
  const cases: Array<[string, string]> = [
    ['/files/docs/', '/base/docs'],
    ['/files//docs//a.txt', '/base/docs/a.txt'],
    ['/files/x/../docs/%7Euser/%41?q=1', '/base/docs/~user/A?q=1'],
    ['/files/docs/%c3%a9t%c3%a9', '/base/docs/%C3%A9t%C3%A9'],
    ['/files/.well-known/x', '/base/.well-known/x'],
  ];
  for (const [target, expected] of cases) {
    const res = await rawRequest(t.url, `GET ${target} HTTP/1.1\r\napi-key: ${TEST_KEY}`);
    assert.equal(res.status, 200, `${target}: ${res.body}`);
    assert.equal(plainSeen.at(-1), expected, target);
  }
});

test('the data plane has no back door to other listeners: //admin and %2e paths go nowhere special', async () => {
  const before = t.sim.requests.length;
  for (const target of ['//admin/status', '/%2e%2e/admin', '/openai/%2e%2e/%2e%2e/status', '/files/..%2F..%2Fadmin']) {
    const res = await rawRequest(t.url, `GET ${target} HTTP/1.1\r\napi-key: ${TEST_KEY}`);
    assert.ok(res.status === 400 || res.status === 404, `${target}: ${res.status} ${res.body}`);
    assert.doesNotMatch(res.body, /"backends"|"apis"/, 'no admin document on the data plane');
  }
  assert.equal(t.sim.requests.length, before);
});

test('a path rewritten by a policy from request data is canonical too, and dot segments in any spelling are refused', async () => {
  const ok = await rawRequest(t.url, `GET /rewritten/x HTTP/1.1\r\napi-key: ${TEST_KEY}\r\nx-target: //docs//a/`);
  assert.equal(ok.status, 200, ok.body);
  assert.equal(plainSeen.at(-1), '/base/docs/a');
  const seenBefore = plainSeen.length;
  for (const target of ['/docs/%2e%2e/secret', '/docs/../secret', '/docs/%2F..']) {
    const res = await rawRequest(t.url, `GET /rewritten/x HTTP/1.1\r\napi-key: ${TEST_KEY}\r\nx-target: ${target}`);
    assert.equal(res.status, 500, `${target}: ${res.body}`);
    assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'GW_ERR_POLICY_FAILED', target);
  }
  assert.equal(plainSeen.length, seenBefore, 'the backend saw none of them');
});
