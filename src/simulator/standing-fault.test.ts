import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import type { OpenAiErrorBody } from './errors.ts';
import { SimulatorOptionError } from './options.ts';
import { startSimulator } from './server.ts';
import { SimulatorFaultError } from './standing-fault.ts';
import { postJson, rawPost, readJson, useSimulator } from './test-support.ts';
import { simulatorSchema } from '../config/schema.ts';

const CHAT = { model: 'gpt-4o', messages: [{ role: 'user', content: 'are you up?' }], max_tokens: 8 };
const STREAM = { ...CHAT, stream: true };
const COMPLETION = { model: 'gpt-4o', prompt: 'are you up?', max_tokens: 4 };
const EMBEDDING = { model: 'text-embedding-3-small', input: 'are you up?' };

async function status(url: string, body: unknown, headers: Record<string, string> = {}): Promise<number> {
  const res = await postJson(url, body, headers);
  await res.arrayBuffer();
  return res.status;
}

void test('a standing 429 answers every API request with Retry-After until it is cleared', async (t) => {
  const sim = await useSimulator(t);
  sim.setFault('429', { retryAfterSeconds: 2 });

  const res = await postJson(`${sim.url}/v1/chat/completions`, CHAT);
  assert.equal(res.status, 429);
  assert.equal(res.headers.get('retry-after'), '2');
  assert.equal(res.headers.get('retry-after-ms'), '2000');
  assert.equal((await readJson<OpenAiErrorBody>(res)).error.code, '429');
  assert.equal(await status(`${sim.url}/v1/completions`, COMPLETION), 429);
  assert.equal(await status(`${sim.url}/openai/deployments/emb/embeddings`, EMBEDDING), 429);
  const models = await fetch(`${sim.url}/v1/models`);
  await models.arrayBuffer();
  assert.equal(models.status, 429, 'GET /models honours x-sim-fail, so it honours a standing fault too');
  assert.equal(sim.stats.faulted, 4);

  sim.setFault(null);
  assert.equal(await status(`${sim.url}/v1/chat/completions`, CHAT), 200);
  assert.equal(sim.stats.faulted, 4);
  assert.deepEqual(sim.getFault(), { fail: null, retryAfterSeconds: null, latencyMs: null, rate: null });
});

void test('a bare standing 429 sends Retry-After 1; other statuses send it only when set', async (t) => {
  const sim = await useSimulator(t);
  sim.setFault('429');
  assert.equal((await postJson(`${sim.url}/v1/chat/completions`, CHAT)).headers.get('retry-after'), '1');
  sim.setFault(' 503 ');
  const res = await postJson(`${sim.url}/v1/chat/completions`, CHAT);
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('retry-after'), null);
  assert.equal(sim.getFault().fail, '503');
});

void test("a request's own x-sim-fail wins over the standing fault", async (t) => {
  const sim = await useSimulator(t);
  sim.setFault('500');
  assert.equal(await status(`${sim.url}/v1/chat/completions`, CHAT, { 'x-sim-fail': '429' }), 429);
  assert.equal(await status(`${sim.url}/v1/chat/completions`, CHAT, { 'x-sim-fail': '502' }), 502);
  assert.equal(sim.stats.faulted, 0, 'answers decided by headers are not standing-fault answers');
  assert.equal(await status(`${sim.url}/v1/chat/completions`, CHAT), 500);
  assert.equal(sim.stats.faulted, 1);
});

void test('a standing fault still lets the key check answer 401 first', async (t) => {
  const sim = await useSimulator(t, { requireKey: 'secret' });
  sim.setFault('503');
  assert.equal(await status(`${sim.url}/v1/chat/completions`, CHAT), 401);
  assert.equal(await status(`${sim.url}/v1/chat/completions`, CHAT, { 'api-key': 'secret' }), 503);
});

void test('rate 0.5 faults about half the requests, the same ones on every run', async (t) => {
  const REQUESTS = 400;
  const runs: number[][] = [];
  for (let run = 0; run < 2; run++) {
    const sim = await useSimulator(t, { seed: 7 });
    sim.setFault('503', { rate: 0.5 });
    const statuses: number[] = [];
    for (let i = 0; i < REQUESTS; i++) statuses.push(await status(`${sim.url}/v1/chat/completions`, CHAT));
    const failed = statuses.filter((s) => s === 503).length;
    assert.equal(sim.stats.faulted, failed);
    assert.ok(statuses.every((s) => s === 200 || s === 503));
    runs.push(statuses);

    // setFault restarts the draws, so the sequence after it repeats.
    sim.setFault('503', { rate: 0.5 });
    const again: number[] = [];
    for (let i = 0; i < 20; i++) again.push(await status(`${sim.url}/v1/chat/completions`, CHAT));
    assert.deepEqual(again, statuses.slice(0, 20));
  }
  assert.deepEqual(runs[0], runs[1]);
  // Binomial(400, 0.5) has sd 10; 5 sd either side cannot flake on a fair draw yet catches a
  // rate that is ignored (0 or 400) or applied twice (about 100 or 300).
  const failed = runs[0]?.filter((s) => s === 503).length ?? 0;
  assert.ok(failed >= 150 && failed <= 250, `${failed} of ${REQUESTS} faulted`);
});

void test('a standing cut-after:N streams N content chunks then closes without [DONE]', async (t) => {
  const sim = await useSimulator(t, { tokensPerSecond: 0 });
  sim.setFault('cut-after:3');
  const outcome = await rawPost(`${sim.url}/v1/chat/completions`, STREAM);
  assert.equal(outcome.status, 200);
  assert.equal(outcome.complete, false);
  assert.equal(outcome.body.split('\n\n').filter((event) => event.includes('"content":" ')).length, 3);
  assert.ok(!outcome.body.includes('[DONE]'));
  assert.equal(sim.stats.clientAborts, 0, 'a deliberate cut is not a client abort');
  assert.equal(sim.stats.faulted, 1);
});

void test('a standing reset drops the connection, and the standing latency delays it', async (t) => {
  const sim = await useSimulator(t);
  sim.setFault('reset', { latencyMs: 120 });
  const started = performance.now();
  const outcome = await rawPost(`${sim.url}/v1/chat/completions`, CHAT);
  assert.ok(performance.now() - started >= 110);
  assert.equal(outcome.status, undefined);
  assert.equal(outcome.error, 'ECONNRESET');
  assert.equal(sim.stats.faulted, 1);
});

void test('setFault rejects a bad spec or option with a TypeError and keeps the old fault', async (t) => {
  const sim = await useSimulator(t);
  sim.setFault('429');
  assert.throws(() => sim.setFault('explode'), (error: unknown) => {
    assert.ok(error instanceof TypeError && error instanceof SimulatorFaultError);
    assert.equal(error.code, 'TG_SIM_INVALID_FAULT');
    assert.match(error.message, /'fail' must be a status 400-599, hang, reset, cut-after:N or stall-after:N/);
    assert.match(error.message, /"explode"/);
    return true;
  });
  assert.throws(() => sim.setFault(''), SimulatorFaultError);
  assert.throws(() => sim.setFault('600'), SimulatorFaultError);
  assert.throws(() => sim.setFault('500', { rate: 1.5 }), /'rate' must be a number from 0 to 1/);
  assert.throws(() => sim.setFault('429', { retryAfterSeconds: -1 }), /'retryAfterSeconds' must be an integer/);
  assert.equal(sim.getFault().fail, '429');
});

void test('the fault option starts a simulator already failing and is validated at start', async (t) => {
  const sim = await useSimulator(t, { fault: { fail: '429', retryAfterSeconds: 5 } });
  assert.deepEqual(sim.getFault(), { fail: '429', retryAfterSeconds: 5, latencyMs: null, rate: 1 });
  assert.equal((await postJson(`${sim.url}/v1/chat/completions`, CHAT)).headers.get('retry-after'), '5');
  await assert.rejects(startSimulator({ fault: { fail: 'cut-after:x' } }), (error: unknown) => {
    assert.ok(error instanceof SimulatorOptionError);
    assert.match(error.message, /'fault\.fail'/);
    return true;
  });
  await assert.rejects(startSimulator({ fault: { fail: '500', rate: -0.1 } }), /'fault\.rate'/);
});

void test('the config entry accepts a fault and rejects unknown fields or a bad spec', () => {
  const parsed = simulatorSchema.parse({ port: 4010, fault: { fail: '429', retryAfterSeconds: 5, rate: 1 } });
  assert.deepEqual(parsed.fault, { fail: '429', retryAfterSeconds: 5, rate: 1 });
  assert.ok(simulatorSchema.safeParse({ port: 4010, fault: { fail: 'cut-after:3', latencyMs: 100 } }).success);
  assert.equal(simulatorSchema.safeParse({ port: 4010, fault: { fail: 'explode' } }).success, false);
  assert.equal(simulatorSchema.safeParse({ port: 4010, fault: { fail: '429', retry: 5 } }).success, false);
  assert.equal(simulatorSchema.safeParse({ port: 4010, fault: { fail: '500', rate: 2 } }).success, false);
});
