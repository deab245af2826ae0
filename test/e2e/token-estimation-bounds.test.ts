/**
 * Token counting has bounded cost: a megabyte prompt that is one long word (quadratic for plain
 * BPE) and a megabyte streamed completion without usage are counted while a small request on
 * another connection is still served promptly, and the counts stay plausible.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestGateway, TEST_KEY, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { countTextTokens } from '../../src/tokenizer/index.ts';

const MiB = 1024 * 1024;
// 'ab' repeated is one pre-tokenizer piece; before counting was bounded, 1 MiB of it took minutes.
const WORD = 'ab'.repeat(MiB / 2);
const CHUNKS = 64;

let t: TestGateway;
let fake: Server;
before(async () => {
  // A backend that streams one long word and never reports usage.
  fake = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const piece = WORD.slice(0, WORD.length / CHUNKS);
      for (let i = 0; i < CHUNKS; i++) {
        res.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'gpt-4o', choices: [{ index: 0, delta: { content: piece } }] })}\n\n`);
      }
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  const fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
  t = await startTestGateway({
    config: { gateway: { listen: '127.0.0.1:0', maxBodyBytes: 4 * MiB } },
    apiPolicies: `<policies><inbound><llm-token-limit counter-key="@(context.Subscription.Id)" tokens-per-minute="100000000" estimate-prompt-tokens="true" /></inbound><backend><forward-request /></backend><outbound /><on-error /></policies>`,
    extraBackends: { 'no-usage': { url: fakeUrl } },
    extraApis: { 'no-usage': { path: 'nousage', type: 'openai', backend: 'no-usage' } },
  });
});
after(async () => {
  await t.close();
  await new Promise((resolve) => fake.close(resolve));
});

function chat(path: string, content: string, extra: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${t.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content }], ...extra }),
  });
}

/** A small request sent while `hostile` is in flight completes, with its usage recorded. */
async function smallRequestDuring(hostile: Promise<Response>): Promise<void> {
  const small = await chat('/v1/chat/completions', 'hello there');
  assert.equal(small.status, 200);
  const body = (await small.json()) as { usage: { prompt_tokens: number } };
  assert.equal(body.usage.prompt_tokens, 9);
  assert.equal((await hostile).status, 200);
}

void test('a megabyte one-word prompt is counted in bounded time and does not hold up other requests', async () => {
  const started = Date.now();
  const hostile = chat('/v1/chat/completions', WORD, { max_tokens: 5 });
  await smallRequestDuring(hostile);
  const res = await hostile;
  const id = res.headers.get('x-request-id');
  await res.arrayBuffer();
  await waitFor(() => t.usages.some((u) => u.requestId === id), 5000, 'usage record');
  const usage = t.usages.find((u) => u.requestId === id)!;
  const expected = countTextTokens(WORD, 'gpt-4o');
  assert.ok(Math.abs(usage.promptTokens - expected) / expected < 0.05, `prompt tokens ${usage.promptTokens} vs ${expected}`);
  // Generous: unbounded BPE took minutes for this input; the bound is there to fail, not to time.
  assert.ok(Date.now() - started < 30_000);
});

void test('a megabyte streamed one-word completion without usage is estimated in bounded time', async () => {
  const hostile = chat('/nousage/v1/chat/completions', 'go', { stream: true });
  await smallRequestDuring(hostile);
  const res = await hostile;
  const id = res.headers.get('x-request-id');
  const text = await res.text();
  assert.ok(text.endsWith('data: [DONE]\n\n'));
  await waitFor(() => t.usages.some((u) => u.requestId === id), 30_000, 'usage record');
  const usage = t.usages.find((u) => u.requestId === id)!;
  assert.equal(usage.source, 'estimated');
  const expected = countTextTokens(WORD, 'gpt-4o');
  assert.ok(Math.abs(usage.completionTokens - expected) / expected < 0.05, `completion tokens ${usage.completionTokens} vs ${expected}`);
});
