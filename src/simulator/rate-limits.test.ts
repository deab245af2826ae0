import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countPromptTokens } from '../tokenizer/index.ts';
import { createSlidingWindow } from './limits.ts';
import type { OpenAiErrorBody } from './errors.ts';
import { postJson, readJson, useSimulator } from './test-support.ts';

const CHAT = { model: 'gpt-4o', messages: [{ role: 'user', content: 'count me' }], max_tokens: 100 };
const COST = countPromptTokens(CHAT, 'chat') + 100;

function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let current = start;
  return { now: () => current, advance: (ms) => (current += ms) };
}

void test('TPM charges prompt + max tokens at admission and answers 429 with retry headers when exhausted', async (t) => {
  const clock = manualClock();
  const sim = await useSimulator(t, { tpm: COST * 2, now: clock.now });
  const url = `${sim.url}/v1/chat/completions`;

  const first = await postJson(url, CHAT);
  assert.equal(first.status, 200);
  assert.equal(first.headers.get('x-ratelimit-limit-tokens'), String(COST * 2));
  assert.equal(first.headers.get('x-ratelimit-remaining-tokens'), String(COST));
  assert.equal(first.headers.get('x-ratelimit-limit-requests'), null, 'no RPM limit, no RPM headers');
  await first.arrayBuffer();

  clock.advance(10_000);
  const second = await postJson(url, CHAT);
  assert.equal(second.status, 200);
  assert.equal(second.headers.get('x-ratelimit-remaining-tokens'), '0');
  await second.arrayBuffer();

  clock.advance(10_000);
  const refused = await postJson(url, CHAT);
  assert.equal(refused.status, 429);
  // The first charge (t=0) leaves the window at t=60 s; now is t=20 s.
  assert.equal(refused.headers.get('retry-after'), '40');
  const retryMs = Number(refused.headers.get('retry-after-ms'));
  assert.equal(retryMs, 40_000);
  assert.equal(refused.headers.get('x-ratelimit-remaining-tokens'), '0');
  const { error } = await readJson<OpenAiErrorBody>(refused);
  assert.equal(error.code, '429');
  assert.match(error.message, /token rate limit/);

  clock.advance(40_000);
  const afterWindow = await postJson(url, CHAT);
  assert.equal(afterWindow.status, 200, 'the first charge has left the sliding window');
  await afterWindow.arrayBuffer();
});

void test('a refused request is not charged', async (t) => {
  const clock = manualClock();
  const sim = await useSimulator(t, { tpm: COST, now: clock.now });
  const url = `${sim.url}/v1/chat/completions`;
  assert.equal((await postJson(url, CHAT)).status, 200);
  for (let i = 0; i < 3; i++) assert.equal((await postJson(url, CHAT)).status, 429);
  clock.advance(60_000);
  const res = await postJson(url, CHAT);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-ratelimit-remaining-tokens'), '0');
});

void test('RPM limits requests per sliding minute', async (t) => {
  const clock = manualClock();
  const sim = await useSimulator(t, { rpm: 2, now: clock.now });
  const url = `${sim.url}/v1/chat/completions`;
  const a = await postJson(url, CHAT);
  assert.equal(a.headers.get('x-ratelimit-limit-requests'), '2');
  assert.equal(a.headers.get('x-ratelimit-remaining-requests'), '1');
  clock.advance(30_000);
  assert.equal((await postJson(url, CHAT)).status, 200);
  const refused = await postJson(url, CHAT);
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get('retry-after'), '30');
  assert.match((await readJson<OpenAiErrorBody>(refused)).error.message, /request rate limit/);
  clock.advance(30_000);
  assert.equal((await postJson(url, CHAT)).status, 200);
});

void test('embeddings are charged their input tokens; model listing is free', async (t) => {
  const clock = manualClock();
  const sim = await useSimulator(t, { tpm: 10, rpm: 100, now: clock.now });
  const res = await postJson(`${sim.url}/v1/embeddings`, { model: 'text-embedding-3-small', input: 'hello world' });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-ratelimit-remaining-tokens'), '8');
  const models = await fetch(`${sim.url}/v1/models`);
  assert.equal(models.headers.get('x-ratelimit-remaining-tokens'), '8');
  assert.equal(models.headers.get('x-ratelimit-remaining-requests'), '99');
});

void test('a request larger than the whole TPM budget is refused with a full-window Retry-After', async (t) => {
  const sim = await useSimulator(t, { tpm: 50 });
  const res = await postJson(`${sim.url}/v1/chat/completions`, { ...CHAT, max_tokens: 1000 });
  assert.equal(res.status, 429);
  assert.equal(res.headers.get('retry-after'), '60');
});

void test('injected failures do not use quota', async (t) => {
  const clock = manualClock();
  const sim = await useSimulator(t, { rpm: 1, now: clock.now });
  const url = `${sim.url}/v1/chat/completions`;
  assert.equal((await postJson(url, CHAT, { 'x-sim-fail': '503' })).status, 503);
  assert.equal((await postJson(url, CHAT)).status, 200);
});

void test('sliding window releases charges 60 s after they were made, never early', () => {
  const window = createSlidingWindow(100);
  window.charge(60, 0);
  window.charge(40, 30_000);
  assert.equal(window.remaining(59_999), 0);
  assert.equal(window.waitFor(50, 59_999), 1);
  assert.equal(window.remaining(60_000), 60);
  assert.equal(window.waitFor(50, 60_000), 0);
  // Two charges sharing a 100 ms slot are released together, with the later one.
  window.charge(10, 100_010);
  window.charge(10, 100_090);
  assert.equal(window.remaining(160_050), 80);
  assert.equal(window.remaining(160_090), 100);
  assert.equal(window.waitFor(101, 0), 60_000, 'a cost above the limit can never fit');
  assert.equal(window.remaining(200_000), 100);
});
