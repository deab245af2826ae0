/**
 * A non-streamed answer larger than gateway.maxResponseBytes is not held in memory: it is streamed
 * through intact and its tokens are counted locally, while smaller ones are held and metered from
 * the backend's own usage report.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startTestGateway, TEST_KEY, waitFor, type TestGateway } from '../helpers/gateway.ts';

let t: TestGateway;
before(async () => {
  t = await startTestGateway({ config: { gateway: { listen: '127.0.0.1:0', maxResponseBytes: 4096 } } });
});
after(() => t.close());

test('an answer over maxResponseBytes streams through complete, and its tokens are counted locally', async () => {
  const response = await fetch(`${t.url}/v1/embeddings`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'text-embedding-3-small', input: ['one', 'two', 'three'], dimensions: 1536, encoding_format: 'float' }),
  });
  const raw = await response.text();
  assert.ok(raw.length > 4096, 'the backend answer really is over the limit');
  const data = JSON.parse(raw) as { data: Array<{ embedding: number[] }>; usage: { prompt_tokens: number } };
  assert.equal(data.data.length, 3);
  assert.equal(data.data[2]?.embedding.length, 1536);
  const id = response.headers.get('x-request-id');
  await waitFor(() => t.usages.some((u) => u.requestId === id));
  const usage = t.usages.find((u) => u.requestId === id)!;
  assert.equal(usage.status, 200);
  assert.equal(usage.source, 'estimated');
  assert.ok(usage.promptTokens >= 3);
});

test('an answer under maxResponseBytes is held and metered', async () => {
  const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: TEST_KEY, maxRetries: 0 });
  const { data, response } = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'one', dimensions: 8 }).withResponse();
  assert.equal(data.data[0]?.embedding.length, 8);
  const id = response.headers.get('x-request-id');
  await waitFor(() => t.usages.some((u) => u.requestId === id));
  assert.equal(t.usages.find((u) => u.requestId === id)!.source, 'backend');
});
