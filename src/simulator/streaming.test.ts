import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { countPromptTokens, countTextTokens } from '../tokenizer/index.ts';
import type OpenAI from 'openai';
import { parseSse, postJson, readJson, useSimulator } from './test-support.ts';

interface Chunk {
  id: string;
  object: string;
  choices: { index: number; delta?: { role?: string; content?: string }; text?: string; finish_reason: string | null }[];
  usage?: unknown;
}

const BODY = { model: 'gpt-4o', messages: [{ role: 'user', content: 'stream please' }], max_tokens: 5, stream: true };

void test('chat stream: role chunk, one chunk per token, finish chunk, [DONE]; no usage key', async (t) => {
  const sim = await useSimulator(t, { tokensPerSecond: 0 });
  const res = await postJson(`${sim.url}/v1/chat/completions`, BODY);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const events = parseSse(await res.text());
  assert.equal(events.at(-1), '[DONE]');
  const chunks = events.slice(0, -1) as Chunk[];
  assert.equal(chunks.length, 1 + 5 + 1);
  assert.ok(chunks.every((chunk) => chunk.object === 'chat.completion.chunk' && chunk.id === chunks[0]?.id));
  assert.ok(chunks.every((chunk) => !('usage' in chunk)), 'usage is absent unless include_usage is set');
  assert.deepEqual(chunks[0]?.choices[0]?.delta, { role: 'assistant', content: '', refusal: null });
  const content = chunks.slice(1, 6).map((chunk) => chunk.choices[0]?.delta?.content ?? '');
  assert.ok(content.every((piece) => countTextTokens(piece) === 1));
  assert.equal(chunks[6]?.choices[0]?.finish_reason, 'length');
  assert.deepEqual(chunks[6]?.choices[0]?.delta, {});

  // Streaming and non-streaming produce the same text for the same prompt.
  const plain = await readJson<OpenAI.ChatCompletion>(await postJson(`${sim.url}/v1/chat/completions`, { ...BODY, stream: false }));
  assert.equal(content.join(''), plain.choices[0]?.message.content);
});

void test('include_usage: every chunk carries usage null, then a choices-less usage chunk before [DONE]', async (t) => {
  const sim = await useSimulator(t, { tokensPerSecond: 0 });
  const body = { ...BODY, stream_options: { include_usage: true } };
  const events = parseSse(await (await postJson(`${sim.url}/v1/chat/completions`, body)).text());
  assert.equal(events.at(-1), '[DONE]');
  const chunks = events.slice(0, -1) as Chunk[];
  const usageChunk = chunks.at(-1);
  assert.deepEqual(usageChunk?.choices, []);
  const promptTokens = countPromptTokens(body, 'chat');
  assert.deepEqual(usageChunk?.usage, {
    prompt_tokens: promptTokens,
    completion_tokens: 5,
    total_tokens: promptTokens + 5,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  });
  assert.ok(chunks.slice(0, -1).every((chunk) => chunk.usage === null));
});

void test('legacy completions stream text_completion chunks without a role chunk', async (t) => {
  const sim = await useSimulator(t, { tokensPerSecond: 0 });
  const body = { model: 'gpt-3.5-turbo-instruct', prompt: 'Once', max_tokens: 3, stream: true, stream_options: { include_usage: true } };
  const events = parseSse(await (await postJson(`${sim.url}/v1/completions`, body)).text());
  const chunks = events.slice(0, -1) as Chunk[];
  assert.equal(chunks.length, 3 + 1 + 1);
  assert.ok(chunks.every((chunk) => chunk.object === 'text_completion'));
  assert.ok(chunks.slice(0, 3).every((chunk) => countTextTokens(chunk.choices[0]?.text ?? '') === 1));
  assert.equal(chunks[3]?.choices[0]?.finish_reason, 'length');
  assert.deepEqual(chunks[4]?.choices, []);
  assert.equal((chunks[4]?.usage as { completion_tokens: number }).completion_tokens, 3);
});

void test('n > 1 streams every choice with its own index', async (t) => {
  const sim = await useSimulator(t, { tokensPerSecond: 0 });
  const events = parseSse(await (await postJson(`${sim.url}/v1/chat/completions`, { ...BODY, n: 2, max_tokens: 3 })).text());
  const chunks = events.slice(0, -1) as Chunk[];
  // 2 role + 2x3 content + 2 finish
  assert.equal(chunks.length, 10);
  const finishes = chunks.filter((chunk) => chunk.choices[0]?.finish_reason !== null).map((chunk) => chunk.choices[0]?.index);
  assert.deepEqual(finishes, [0, 1]);
});

void test('tokens are paced and each one is delivered as soon as it is produced', async (t) => {
  const sim = await useSimulator(t, { tokensPerSecond: 50 });
  const started = performance.now();
  const res = await postJson(`${sim.url}/v1/chat/completions`, { ...BODY, max_tokens: 10 });
  assert.ok(res.body);
  const decoder = new TextDecoder();
  const arrivals: number[] = [];
  let buffered = '';
  for await (const bytes of res.body as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(bytes, { stream: true });
    let end = buffered.indexOf('\n\n');
    while (end !== -1) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      if (event.includes('"content":" ')) arrivals.push(performance.now() - started);
      end = buffered.indexOf('\n\n');
    }
  }
  const total = performance.now() - started;
  assert.equal(arrivals.length, 10);
  // 10 tokens at 50/s: due at 0, 20, ..., 180 ms.
  assert.ok(total >= 170, `stream took ${total} ms`);
  const first = arrivals[0] ?? Number.NaN;
  const last = arrivals.at(-1) ?? Number.NaN;
  assert.ok(last - first >= 150, `tokens spread over ${last - first} ms`);
  assert.ok(first < last - 100, `first token at ${first} ms arrived long before the last at ${last} ms`);
});

void test('x-sim-tokens-per-second overrides the pace per request', async (t) => {
  const sim = await useSimulator(t, { tokensPerSecond: 5 });
  const started = performance.now();
  await (await postJson(`${sim.url}/v1/chat/completions`, { ...BODY, max_tokens: 10 }, { 'x-sim-tokens-per-second': '0' })).text();
  assert.ok(performance.now() - started < 1000, 'unpaced stream does not wait 2 s');
});
