/**
 * The official `openai` npm client works against the gateway unchanged, OpenAI style and Azure style.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { AzureOpenAI } from 'openai';
import { startTestGateway, TEST_KEY, waitFor, type TestGateway } from '../helpers/gateway.ts';

let t: TestGateway;
before(async () => {
  t = await startTestGateway();
});
after(() => t.close());

for (const base of ['/v1', '/openai/v1']) {
  test(`OpenAI client at ${base}: chat completion returns the backend's answer and usage`, async () => {
    const client = new OpenAI({ baseURL: t.url + base, apiKey: TEST_KEY, maxRetries: 0 });
    const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 7 });
    assert.equal(res.object, 'chat.completion');
    assert.equal(res.usage?.completion_tokens, 7);
    assert.ok((res.usage?.prompt_tokens ?? 0) > 0);
    assert.equal(typeof res.choices[0]?.message.content, 'string');
  });

  test(`OpenAI client at ${base}: streamed chat arrives as chunks and usage is metered`, async () => {
    const client = new OpenAI({ baseURL: t.url + base, apiKey: TEST_KEY, maxRetries: 0 });
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Stream please' }], max_tokens: 5, stream: true })
      .withResponse();
    let text = '';
    let chunks = 0;
    let sawUsage = false;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) sawUsage = true;
    }
    assert.ok(chunks >= 6, `expected ≥6 chunks, got ${chunks}`);
    assert.ok(text.length > 0);
    assert.equal(sawUsage, false, 'the client did not ask for usage, so the gateway must hide the chunk it requested');
    const id = response.headers.get('x-request-id');
    await waitFor(() => t.usages.some((u) => u.requestId === id), 2000, 'usage record');
    const usage = t.usages.find((u) => u.requestId === id)!;
    assert.equal(usage.streamed, true);
    assert.equal(usage.completionTokens, 5);
    assert.equal(usage.source, 'backend');
  });
}

test('OpenAI client: a client that asks for stream usage gets the usage chunk', async () => {
  const client = new OpenAI({ baseURL: t.url + '/v1', apiKey: TEST_KEY, maxRetries: 0 });
  const stream = await client.chat.completions.create({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: 'count me' }],
    max_tokens: 4,
    stream: true,
    stream_options: { include_usage: true },
  });
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
  assert.equal(usage?.completion_tokens, 4);
});

test('OpenAI client: legacy completions, plain and streamed', async () => {
  const client = new OpenAI({ baseURL: t.url + '/v1', apiKey: TEST_KEY, maxRetries: 0 });
  const res = await client.completions.create({ model: 'gpt-4o-mini', prompt: 'Once upon a time', max_tokens: 6 });
  assert.equal(res.object, 'text_completion');
  assert.equal(res.usage?.completion_tokens, 6);
  const stream = await client.completions.create({ model: 'gpt-4o-mini', prompt: 'Once upon a time', max_tokens: 3, stream: true });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
  assert.ok(text.trim().split(/\s+/).length >= 1);
});

test('OpenAI client: embeddings (base64 by default, dimensions honoured)', async () => {
  const client = new OpenAI({ baseURL: t.url + '/v1', apiKey: TEST_KEY, maxRetries: 0 });
  const res = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['hello world', 'goodbye'], dimensions: 64 });
  assert.equal(res.data.length, 2);
  assert.equal(res.data[0]?.embedding.length, 64);
  assert.ok((res.usage.prompt_tokens ?? 0) > 0);
});

test('OpenAI client: models.list lists the declared deployments', async () => {
  const client = new OpenAI({ baseURL: t.url + '/v1', apiKey: TEST_KEY, maxRetries: 0 });
  const ids: string[] = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids.sort(), ['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small']);
});

test('AzureOpenAI client: chat, stream and embeddings through /openai/deployments/{id}', async () => {
  const chat = new AzureOpenAI({ endpoint: t.url, apiKey: TEST_KEY, apiVersion: '2024-10-21', deployment: 'gpt-4o', maxRetries: 0 });
  const res = await chat.chat.completions.create({ model: '', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });
  assert.equal(res.usage?.completion_tokens, 3);
  const last = t.sim.requests.at(-1)!;
  assert.equal(last.path, '/openai/deployments/gpt-4o/chat/completions');
  assert.match(last.url, /api-version=2024-10-21/);

  const stream = await chat.chat.completions.create({ model: '', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3, stream: true });
  let n = 0;
  for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) n++;
  assert.equal(n, 3);

  const emb = new AzureOpenAI({ endpoint: t.url, apiKey: TEST_KEY, apiVersion: '2024-10-21', deployment: 'text-embedding-3-small', maxRetries: 0 });
  const e = await emb.embeddings.create({ model: '', input: 'hello' });
  assert.equal(e.data[0]?.embedding.length, 1536);
});

test('AzureOpenAI client: an undeclared deployment is a 404 in the OpenAI error format', async () => {
  const client = new AzureOpenAI({ endpoint: t.url, apiKey: TEST_KEY, apiVersion: '2024-10-21', deployment: 'gpt-nope', maxRetries: 0 });
  await assert.rejects(
    client.chat.completions.create({ model: '', messages: [{ role: 'user', content: 'hi' }] }),
    (err: unknown) => err instanceof OpenAI.NotFoundError && (err.error as { code?: string }).code === 'GW_ERR_DEPLOYMENT_NOT_FOUND',
  );
});

test('OpenAI client: a wrong key is a 401 AuthenticationError', async () => {
  const client = new OpenAI({ baseURL: t.url + '/v1', apiKey: 'tg-wrong-key-000000000', maxRetries: 0 });
  await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }), OpenAI.AuthenticationError);
});
