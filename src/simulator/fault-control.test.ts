import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OpenAiErrorBody } from './errors.ts';
import type { StandingFaultView } from './standing-fault.ts';
import { postJson, readJson, useSimulator } from './test-support.ts';

const CHAT = { model: 'gpt-4o', messages: [{ role: 'user', content: 'fail over' }], max_tokens: 4 };
const CLEARED: StandingFaultView = { fail: null, retryAfterSeconds: null, latencyMs: null, rate: null };

function putFault(url: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/_sim/fault`, { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body });
}

async function expectError(res: Response, status: number, param?: string): Promise<void> {
  assert.equal(res.status, status);
  const { error } = await readJson<OpenAiErrorBody>(res);
  assert.deepEqual(Object.keys(error).sort(), ['code', 'message', 'param', 'type']);
  if (param !== undefined) assert.equal(error.param, param, error.message);
}

void test('PUT /_sim/fault sets the standing fault, GET shows it, {"fail":null} clears it', async (t) => {
  const sim = await useSimulator(t);
  assert.deepEqual(await readJson<StandingFaultView>(await fetch(`${sim.url}/_sim/fault`)), CLEARED);

  const put = await putFault(sim.url, JSON.stringify({ fail: '429', retryAfterSeconds: 5 }));
  assert.equal(put.status, 200);
  const view = await readJson<StandingFaultView>(put);
  assert.deepEqual(view, { fail: '429', retryAfterSeconds: 5, latencyMs: null, rate: 1 });
  assert.deepEqual(await readJson<StandingFaultView>(await fetch(`${sim.url}/_sim/fault`)), view);
  assert.deepEqual(sim.getFault(), view);

  const failed = await postJson(`${sim.url}/v1/chat/completions`, CHAT);
  assert.equal(failed.status, 429);
  assert.equal(failed.headers.get('retry-after'), '5');
  await failed.arrayBuffer();

  // What GET answers can be PUT back as is (nulls read as unset).
  assert.equal((await putFault(sim.url, JSON.stringify({ ...view, fail: '503' }))).status, 200);
  assert.equal(sim.getFault().fail, '503');

  const cleared = await putFault(sim.url, '{"fail":null}');
  assert.deepEqual(await readJson<StandingFaultView>(cleared), CLEARED);
  const ok = await postJson(`${sim.url}/v1/chat/completions`, CHAT);
  assert.equal(ok.status, 200);
  await ok.arrayBuffer();
});

void test('the fault control needs the key when the simulator requires one', async (t) => {
  const sim = await useSimulator(t, { requireKey: 'secret' });
  await expectError(await fetch(`${sim.url}/_sim/fault`), 401);
  await expectError(await putFault(sim.url, '{"fail":"500"}'), 401);
  await expectError(await putFault(sim.url, '{"fail":"500"}', { 'api-key': 'wrong' }), 401);
  assert.equal(sim.getFault().fail, null, 'a refused PUT changes nothing');

  assert.equal((await putFault(sim.url, '{"fail":"500"}', { 'api-key': 'secret' })).status, 200);
  const viaBearer = await fetch(`${sim.url}/_sim/fault`, { headers: { authorization: 'Bearer secret' } });
  assert.equal((await readJson<StandingFaultView>(viaBearer)).fail, '500');
});

void test('a bad PUT body is a 400 in OpenAI format and leaves the fault as it was', async (t) => {
  const sim = await useSimulator(t);
  sim.setFault('429');
  await expectError(await putFault(sim.url, '{"fail":'), 400);
  await expectError(await putFault(sim.url, '["429"]'), 400);
  await expectError(await putFault(sim.url, ''), 400);
  await expectError(await putFault(sim.url, '{"fail":"explode"}'), 400, 'fail');
  await expectError(await putFault(sim.url, '{"fail":429}'), 400, 'fail');
  await expectError(await putFault(sim.url, '{"retryAfterSeconds":5}'), 400, 'fail');
  await expectError(await putFault(sim.url, '{"fail":"429","retry":5}'), 400, 'retry');
  await expectError(await putFault(sim.url, '{"fail":"500","rate":2}'), 400, 'rate');
  await expectError(await putFault(sim.url, '{"fail":"500","latencyMs":1.5}'), 400, 'latencyMs');
  assert.equal(sim.getFault().fail, '429');
});

void test('the fault control is not itself faulted and answers 405 to other methods', async (t) => {
  const sim = await useSimulator(t);
  sim.setFault('reset');
  const res = await fetch(`${sim.url}/_sim/fault`, { headers: { 'x-sim-fail': 'hang' } });
  assert.equal(res.status, 200, 'neither the standing reset nor x-sim-fail: hang reach the control');
  await res.arrayBuffer();
  const del = await fetch(`${sim.url}/_sim/fault`, { method: 'DELETE' });
  assert.equal(del.headers.get('allow'), 'GET, PUT');
  await expectError(del, 405);
  assert.equal(sim.stats.faulted, 0);
});
