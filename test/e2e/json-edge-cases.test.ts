/**
 * Hostile and odd JSON request bodies: none is a crash or a 5xx. Too-deep nesting is a 400 at
 * parse (whatever walks the value later, e.g. the stream_options rewrite, would overflow the
 * stack); everything else is either refused with a 4xx or served from the one parse the gateway
 * uses for routing, limits and billing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';
import { startFakeUpstream, type FakeUpstream } from '../helpers/raw-http.ts';

let t: TestGateway;
let upstream: FakeUpstream;

before(async () => {
  upstream = await startFakeUpstream();
  t = await startTestGateway({
    logLevel: 'warn',
    backend: { url: `${upstream.url}/openai` },
    // A token limit reads max_tokens and the prompt from the same parse.
    apiPolicies: '<policies><inbound><base /><llm-token-limit counter-key="@(context.Subscription.Id)" tokens-per-minute="100000" estimate-prompt-tokens="true" /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>',
  });
});
after(async () => {
  await t.close();
  await upstream.close();
});

const send = (body: string | Buffer, contentType = 'application/json'): Promise<Response> =>
  fetch(`${t.url}/v1/chat/completions`, { method: 'POST', headers: { 'api-key': TEST_KEY, 'content-type': contentType }, body });

const MESSAGES = '"messages":[{"role":"user","content":"hi"}]';
const nested = (depth: number): string => `{"model":"gpt-4o",${MESSAGES},"metadata":${'['.repeat(depth)}${']'.repeat(depth)}}`;

for (const depth of [10_000, 100_000]) {
  for (const stream of [false, true]) {
    test(`JSON nested ${depth} deep${stream ? ' (streaming, stream_options to rewrite)' : ''} is a 400 GW_ERR_INVALID_JSON, not forwarded`, async () => {
      const seen = upstream.seen.length;
      const body = nested(depth).replace('{', stream ? '{"stream":true,"stream_options":null,' : '{');
      const res = await send(body);
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'GW_ERR_INVALID_JSON');
      assert.equal(upstream.seen.length, seen);
    });
  }
}

test('nesting up to the limit is accepted, and brackets inside strings do not count', async () => {
  const res = await send(nested(200));
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  const inStrings = await send(`{"model":"gpt-4o","messages":[{"role":"user","content":${JSON.stringify('[{ '.repeat(400) + '\\"[')}}]}`);
  assert.equal(inStrings.status, 200);
  await inStrings.arrayBuffer();
});

const CASES: ReadonlyArray<[string, string | Buffer, string?]> = [
  ['duplicate "model" keys', `{"model":"not-declared","model":"gpt-4o",${MESSAGES}}`],
  ['duplicate "model" keys, the last undeclared', `{"model":"gpt-4o","model":"not-declared",${MESSAGES}}`],
  ['a __proto__ key', `{"model":"gpt-4o",${MESSAGES},"__proto__":{"stream":true,"model":"x"}}`],
  ['constructor.prototype', `{"model":"gpt-4o",${MESSAGES},"constructor":{"prototype":{"stream":true}}}`],
  ['1e400 (Infinity)', `{"model":"gpt-4o",${MESSAGES},"temperature":1e400,"max_tokens":1e400}`],
  ['max_tokens 2^53+1', `{"model":"gpt-4o",${MESSAGES},"max_tokens":9007199254740993}`],
  ['a negative and a fractional max_tokens', `{"model":"gpt-4o",${MESSAGES},"max_tokens":-1.5}`],
  ['lone surrogates', `{"model":"gpt-4o","messages":[{"role":"user","content":"a\\ud800b\\udfffc"}]}`],
  ['a UTF-8 BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`{"model":"gpt-4o",${MESSAGES}}`)])],
  ['invalid UTF-8 bytes', Buffer.concat([Buffer.from('{"model":"gpt-4o","messages":[{"role":"user","content":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}]}')])],
  ['a wrong Content-Type', `{"model":"gpt-4o",${MESSAGES}}`, 'text/plain'],
  ['no Content-Type parameters but form encoding', 'model=gpt-4o', 'application/x-www-form-urlencoded'],
  ['a JSON array', `[{"model":"gpt-4o",${MESSAGES}}]`],
  ['a JSON string', '"gpt-4o"'],
  ['null', 'null'],
  ['truncated JSON', `{"model":"gpt-4o",${MESSAGES}`],
  ['an empty body', ''],
  ['a huge number of keys', `{"model":"gpt-4o",${MESSAGES},${Array.from({ length: 20_000 }, (_, i) => `"k${i}":${i}`).join(',')}}`],
];

for (const [what, body, contentType] of CASES) {
  test(`${what}: no 5xx, and the gateway keeps serving`, async () => {
    const res = await send(body, contentType);
    const text = await res.text();
    assert.ok(res.status < 500, `${res.status} ${text.slice(0, 200)}`);
    const ok = await send(`{"model":"gpt-4o",${MESSAGES}}`);
    assert.equal(ok.status, 200);
    await ok.arrayBuffer();
  });
}

test('with duplicate keys, routing and the forwarded body agree on the model (the last one, as JSON.parse reads it)', async () => {
  const res = await send(`{"model":"not-declared","model":"gpt-4o",${MESSAGES}}`);
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  const refused = await send(`{"model":"gpt-4o","model":"not-declared",${MESSAGES}}`);
  assert.equal(refused.status, 404);
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'GW_ERR_DEPLOYMENT_NOT_FOUND');
});
