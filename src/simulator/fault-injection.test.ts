import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import type { OpenAiErrorBody } from './errors.ts';
import { parseSse, postJson, rawPost, readJson, useSimulator, waitUntil } from './test-support.ts';

const CHAT = { model: 'gpt-4o', messages: [{ role: 'user', content: 'fail please' }], max_tokens: 8 };
const STREAM = { ...CHAT, stream: true };

function contentChunks(body: string): number {
  return body.split('\n\n').filter((event) => event.includes('"content":" ')).length;
}

void test('x-sim-fail: <status> answers that status in OpenAI error format', async (t) => {
  const sim = await useSimulator(t);
  for (const status of [500, 502, 503, 400]) {
    const res = await postJson(`${sim.url}/v1/chat/completions`, CHAT, { 'x-sim-fail': String(status) });
    assert.equal(res.status, status);
    const { error } = await readJson<OpenAiErrorBody>(res);
    assert.equal(error.code, String(status));
    assert.equal(typeof error.message, 'string');
    assert.ok('param' in error && 'type' in error);
    assert.equal(res.headers.get('retry-after'), null);
  }
  const withRetry = await postJson(`${sim.url}/v1/chat/completions`, CHAT, { 'x-sim-fail': '503', 'x-sim-retry-after': '4' });
  assert.equal(withRetry.headers.get('retry-after'), '4');
});

void test('x-sim-fail: 429 carries Retry-After (default 1 s) and retry-after-ms', async (t) => {
  const sim = await useSimulator(t);
  const res = await postJson(`${sim.url}/v1/chat/completions`, CHAT, { 'x-sim-fail': '429' });
  assert.equal(res.status, 429);
  assert.equal(res.headers.get('retry-after'), '1');
  assert.equal(res.headers.get('retry-after-ms'), '1000');
  assert.equal((await readJson<OpenAiErrorBody>(res)).error.code, '429');
  const custom = await postJson(`${sim.url}/v1/chat/completions`, CHAT, { 'x-sim-fail': '429', 'x-sim-retry-after': '7' });
  assert.equal(custom.headers.get('retry-after'), '7');
  assert.equal(custom.headers.get('retry-after-ms'), '7000');
});

void test('x-sim-fail: reset drops the connection without a response', async (t) => {
  const sim = await useSimulator(t);
  const outcome = await rawPost(`${sim.url}/v1/chat/completions`, CHAT, { 'x-sim-fail': 'reset' });
  assert.equal(outcome.status, undefined);
  assert.equal(outcome.error, 'ECONNRESET');
  assert.equal(sim.stats.clientAborts, 0, 'a deliberate reset is not a client abort');
});

void test('x-sim-fail: hang sends no headers and holds the socket until the client leaves', async (t) => {
  const sim = await useSimulator(t);
  const outcome = await rawPost(`${sim.url}/v1/chat/completions`, CHAT, { 'x-sim-fail': 'hang' }, 80);
  assert.equal(outcome.status, undefined);
  await waitUntil(() => sim.stats.clientAborts === 1 && sim.stats.inFlight === 0);
});

void test('x-sim-fail: cut-after:N streams N content chunks then closes without [DONE]', async (t) => {
  const sim = await useSimulator(t, { tokensPerSecond: 0 });
  const outcome = await rawPost(`${sim.url}/v1/chat/completions`, STREAM, { 'x-sim-fail': 'cut-after:3' });
  assert.equal(outcome.status, 200);
  assert.equal(outcome.complete, false);
  assert.equal(contentChunks(outcome.body), 3);
  assert.ok(!outcome.body.includes('[DONE]'));
  assert.ok(!outcome.body.includes('"finish_reason":"length"'));
  assert.equal(sim.stats.clientAborts, 0);
});

void test('x-sim-fail: cut-after:N on a JSON reply sends a truncated body then closes', async (t) => {
  const sim = await useSimulator(t);
  const outcome = await rawPost(`${sim.url}/v1/chat/completions`, CHAT, { 'x-sim-fail': 'cut-after:20' });
  assert.equal(outcome.status, 200);
  assert.equal(outcome.complete, false);
  assert.equal(outcome.body.length, 20);
  assert.throws(() => JSON.parse(outcome.body) as unknown);
  // N larger than the body still leaves it incomplete.
  const big = await rawPost(`${sim.url}/v1/chat/completions`, CHAT, { 'x-sim-fail': 'cut-after:100000' });
  assert.equal(big.complete, false);
  assert.ok(big.body.length > 20 && big.body.length < Number(big.headers?.['content-length']));
});

void test('x-sim-fail: stall-after:N streams N content chunks then goes silent with the socket open', async (t) => {
  const sim = await useSimulator(t, { tokensPerSecond: 0 });
  const outcome = await rawPost(`${sim.url}/v1/chat/completions`, STREAM, { 'x-sim-fail': 'stall-after:2' }, 100);
  assert.equal(outcome.status, 200);
  assert.equal(outcome.complete, false);
  assert.equal(outcome.error, undefined, 'the simulator did not close the socket; the client did');
  assert.equal(contentChunks(outcome.body), 2);
  await waitUntil(() => sim.stats.clientAborts === 1);
});

void test('an unknown x-sim-fail value is a 400, not a silent success', async (t) => {
  const sim = await useSimulator(t);
  const res = await postJson(`${sim.url}/v1/chat/completions`, CHAT, { 'x-sim-fail': 'explode' });
  assert.equal(res.status, 400);
  assert.equal((await readJson<OpenAiErrorBody>(res)).error.param, 'x-sim-fail');
});

void test('x-sim-latency-ms delays the response headers', async (t) => {
  const sim = await useSimulator(t);
  const started = performance.now();
  const res = await postJson(`${sim.url}/v1/chat/completions`, CHAT, { 'x-sim-latency-ms': '120' });
  assert.ok(performance.now() - started >= 110);
  assert.equal(res.status, 200);
  await res.arrayBuffer();
});

void test('latencyMs delays every response; a client leaving during the delay is a client abort', async (t) => {
  const sim = await useSimulator(t, { latencyMs: 5000 });
  const outcome = await rawPost(`${sim.url}/v1/chat/completions`, CHAT, {}, 100);
  assert.equal(outcome.status, undefined);
  await waitUntil(() => sim.stats.clientAborts === 1 && sim.stats.inFlight === 0);
});

void test('a client destroying a stream midway is counted in clientAborts', async (t) => {
  const sim = await useSimulator(t, { tokensPerSecond: 20 });
  const outcome = await rawPost(`${sim.url}/v1/chat/completions`, { ...STREAM, max_tokens: 100 }, {}, 150);
  assert.equal(outcome.status, 200);
  assert.ok(contentChunks(outcome.body) >= 1);
  await waitUntil(() => sim.stats.clientAborts === 1 && sim.stats.inFlight === 0);
});

void test('failRate fails a reproducible subset of requests', async (t) => {
  const outcomes: number[][] = [];
  for (let run = 0; run < 2; run++) {
    const sim = await useSimulator(t, { failRate: 0.5, seed: 11 });
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await postJson(`${sim.url}/v1/chat/completions`, CHAT);
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    outcomes.push(statuses);
  }
  assert.deepEqual(outcomes[0], outcomes[1]);
  const failures = outcomes[0]?.filter((status) => status === 500).length ?? 0;
  assert.ok(failures > 2 && failures < 18, `${failures} of 20 failed`);
  assert.ok(outcomes[0]?.every((status) => status === 200 || status === 500));
});

void test('close() ends hanging and stalled exchanges promptly', async (t) => {
  const sim = await useSimulator(t, { tokensPerSecond: 0 });
  const hanging = rawPost(`${sim.url}/v1/chat/completions`, CHAT, { 'x-sim-fail': 'hang' });
  const stalled = rawPost(`${sim.url}/v1/chat/completions`, STREAM, { 'x-sim-fail': 'stall-after:1' });
  await waitUntil(() => sim.stats.inFlight === 2);
  const started = performance.now();
  await sim.close();
  const [hang, stall] = await Promise.all([hanging, stalled]);
  assert.ok(performance.now() - started < 500);
  assert.equal(hang.status, undefined);
  assert.equal(stall.complete, false);
  assert.equal(sim.stats.clientAborts, 0, 'closing the simulator is not a client abort');
  assert.equal(parseSse(stall.body).length, 2);
});
