import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { AzureOpenAI } from 'openai';
import { countTextTokens } from '../tokenizer/index.ts';
import { useSimulator } from './test-support.ts';

const MESSAGES = [{ role: 'user' as const, content: 'Hello from the official client' }];

void test('official OpenAI client: chat, stream with usage, completions, embeddings, models', async (t) => {
  const sim = await useSimulator(t, { tokensPerSecond: 0 });
  const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'x', maxRetries: 0 });

  const chat = await client.chat.completions.create({ model: 'gpt-4o', messages: MESSAGES, max_completion_tokens: 6 });
  assert.equal(chat.choices[0]?.finish_reason, 'length');
  assert.equal(countTextTokens(chat.choices[0]?.message.content ?? ''), 6);
  assert.equal(chat.usage?.completion_tokens, 6);

  const stream = await client.chat.completions.create({
    model: 'gpt-4o',
    messages: MESSAGES,
    max_tokens: 4,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  // Same prompt, same word sequence: the 4-token stream is a prefix of the 6-token reply.
  assert.ok(chat.choices[0]?.message.content?.startsWith(text));
  assert.equal(countTextTokens(text), 4);
  assert.equal(usage?.completion_tokens, 4);
  assert.equal(usage?.prompt_tokens, chat.usage?.prompt_tokens);

  const legacy = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say this is a test', max_tokens: 3 });
  assert.equal(legacy.usage?.completion_tokens, 3);

  const embedding = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello', dimensions: 128 });
  assert.equal(embedding.data[0]?.embedding.length, 128);
  assert.ok(embedding.data[0]?.embedding.every((value) => typeof value === 'number' && Number.isFinite(value)));
  const lastBody = sim.requests.at(-1)?.body as { encoding_format?: string };
  assert.equal(lastBody.encoding_format, 'base64', 'the client asks for base64 by default and decodes it');

  const models = [];
  for await (const model of client.models.list()) models.push(model.id);
  assert.deepEqual(models, ['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small']);
});

void test('official AzureOpenAI client: deployment paths, api-version and api-key', async (t) => {
  const sim = await useSimulator(t, { tokensPerSecond: 0, requireKey: 'azure-key' });
  const client = new AzureOpenAI({ endpoint: sim.url, apiKey: 'azure-key', apiVersion: '2024-10-21', deployment: 'gpt-4o', maxRetries: 0 });

  const chat = await client.chat.completions.create({ model: 'ignored', messages: MESSAGES, max_tokens: 3 });
  assert.equal(chat.model, 'gpt-4o');
  assert.equal(chat.usage?.completion_tokens, 3);
  const recorded = sim.requests.at(-1);
  assert.equal(recorded?.path, '/openai/deployments/gpt-4o/chat/completions');
  assert.match(recorded?.url ?? '', /api-version=2024-10-21/);
  assert.equal(recorded?.headers['api-key'], 'azure-key');

  const stream = await client.chat.completions.create({ model: 'ignored', messages: MESSAGES, max_tokens: 3, stream: true });
  let pieces = 0;
  for await (const chunk of stream) if (chunk.choices[0]?.delta.content) pieces++;
  assert.equal(pieces, 3);

  const embedder = new AzureOpenAI({ endpoint: sim.url, apiKey: 'azure-key', apiVersion: '2024-10-21', deployment: 'text-embedding-3-large', maxRetries: 0 });
  const embedding = await embedder.embeddings.create({ model: 'x', input: ['a', 'b'] });
  assert.equal(embedding.data.length, 2);
  assert.equal(embedding.data[0]?.embedding.length, 3072);

  const legacy = await client.completions.create({ model: 'x', prompt: 'hi', max_tokens: 2 });
  assert.equal(legacy.choices[0]?.finish_reason, 'length');

  const models = await client.models.list();
  assert.equal(models.data.length, 3);
  assert.equal(sim.requests.at(-1)?.path, '/openai/models');
});

void test('the official client surfaces simulator errors as typed API errors', async (t) => {
  const sim = await useSimulator(t, { requireKey: 'right' });
  const wrong = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'wrong', maxRetries: 0 });
  await assert.rejects(wrong.models.list(), (error: unknown) => error instanceof OpenAI.AuthenticationError);
  const right = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'right', maxRetries: 0, defaultHeaders: { 'x-sim-fail': '429' } });
  await assert.rejects(
    right.chat.completions.create({ model: 'gpt-4o', messages: MESSAGES }),
    (error: unknown) => error instanceof OpenAI.RateLimitError && error.status === 429,
  );
});
