import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchRoute } from './routes.ts';
import type OpenAI from 'openai';
import type { OpenAiErrorBody } from './errors.ts';
import { postJson, readJson, useSimulator } from './test-support.ts';

const CHAT = { model: 'gpt-4o', messages: [{ role: 'user', content: 'route me' }], max_tokens: 2 };

void test('OpenAI, Azure v1, Azure deployment and bare paths all reach the same operations', () => {
  const cases: [string, string, ReturnType<typeof matchRoute>][] = [
    ['POST', '/v1/chat/completions', { operation: 'chat', deployment: undefined }],
    ['POST', '/openai/v1/chat/completions', { operation: 'chat', deployment: undefined }],
    ['POST', '/chat/completions', { operation: 'chat', deployment: undefined }],
    ['POST', '/openai/deployments/my-gpt/chat/completions', { operation: 'chat', deployment: 'my-gpt' }],
    ['POST', '/openai/deployments/my%20gpt/completions', { operation: 'completions', deployment: 'my gpt' }],
    ['POST', '/v1/completions', { operation: 'completions', deployment: undefined }],
    ['POST', '/openai/deployments/emb/embeddings', { operation: 'embeddings', deployment: 'emb' }],
    ['POST', '/embeddings/', { operation: 'embeddings', deployment: undefined }],
    ['GET', '/v1/models', { operation: 'models', deployment: undefined }],
    ['GET', '/openai/models', { operation: 'models', deployment: undefined }],
    ['GET', '/openai/v1/models', { operation: 'models', deployment: undefined }],
    ['GET', '/v1/chat/completions', undefined],
    ['POST', '/v1/models', undefined],
    ['POST', '/v2/chat/completions', undefined],
    ['POST', '/openai/deployments//chat/completions', undefined],
    ['POST', '/openai/deployments/x/images/generations', undefined],
    ['DELETE', '/v1/chat/completions', undefined],
  ];
  for (const [method, path, expected] of cases) assert.deepEqual(matchRoute(method, path), expected, `${method} ${path}`);
});

void test('the deployment in the path names the model; api-version is accepted', async (t) => {
  const sim = await useSimulator(t);
  const res = await postJson(`${sim.url}/openai/deployments/prod-gpt4o/chat/completions?api-version=2024-10-21`, {
    messages: CHAT.messages,
  });
  assert.equal(res.status, 200);
  assert.equal((await readJson<OpenAI.ChatCompletion>(res)).model, 'prod-gpt4o');
});

void test('unknown paths are 404 in OpenAI error format', async (t) => {
  const sim = await useSimulator(t);
  const res = await postJson(`${sim.url}/v1/nope`, {});
  assert.equal(res.status, 404);
  const { error } = await readJson<OpenAiErrorBody>(res);
  assert.deepEqual(Object.keys(error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(error.message, 'Invalid URL (POST /v1/nope)');
  assert.equal((await fetch(`${sim.url}/v1/chat/completions`)).status, 404);
});

void test('models list comes from the models option', async (t) => {
  const sim = await useSimulator(t, { models: ['a', 'b'] });
  const json = await readJson<{ object: string; data: OpenAI.Model[] }>(await fetch(`${sim.url}/v1/models`));
  assert.equal(json.object, 'list');
  assert.deepEqual(json.data, [
    { id: 'a', object: 'model', created: 1_700_000_000, owned_by: 'tollgate-simulator' },
    { id: 'b', object: 'model', created: 1_700_000_000, owned_by: 'tollgate-simulator' },
  ]);
});

void test('requireKey accepts api-key or Bearer and refuses anything else with 401', async (t) => {
  const sim = await useSimulator(t, { requireKey: 'k-123' });
  const url = `${sim.url}/v1/chat/completions`;
  assert.equal((await postJson(url, CHAT, { 'api-key': 'k-123' })).status, 200);
  assert.equal((await postJson(url, CHAT, { authorization: 'Bearer k-123' })).status, 200);
  const refused: Record<string, string>[] = [{}, { 'api-key': 'nope' }, { authorization: 'Bearer nope' }, { authorization: 'k-123' }];
  for (const headers of refused) {
    const res = await postJson(url, CHAT, headers);
    assert.equal(res.status, 401, JSON.stringify(headers));
    assert.equal((await readJson<OpenAiErrorBody>(res)).error.code, 'invalid_api_key');
  }
  assert.equal((await fetch(`${sim.url}/v1/models`)).status, 401);
});

void test('every response names the simulator and carries request ids', async (t) => {
  const sim = await useSimulator(t, { name: 'eastus' });
  assert.equal(sim.name, 'eastus');
  for (const res of [await postJson(`${sim.url}/v1/chat/completions`, CHAT), await postJson(`${sim.url}/nope`, {})]) {
    assert.equal(res.headers.get('x-sim-name'), 'eastus');
    assert.equal(res.headers.get('x-ms-region'), 'eastus');
    const id = res.headers.get('x-request-id');
    assert.match(id ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(res.headers.get('apim-request-id'), id);
    await res.arrayBuffer();
  }
  const incoming = await postJson(`${sim.url}/v1/chat/completions`, CHAT, { 'x-request-id': 'client-chosen' });
  assert.notEqual(incoming.headers.get('x-request-id'), 'client-chosen', 'ids are the backend’s own');
});

void test('stats and the bounded request log record what arrived', async (t) => {
  const sim = await useSimulator(t);
  await (await postJson(`${sim.url}/v1/chat/completions?api-version=1`, CHAT, { authorization: 'Bearer backend-key', 'x-trace': 't1' })).arrayBuffer();
  await (await fetch(`${sim.url}/v1/models`)).arrayBuffer();
  assert.equal(sim.stats.requests, 2);
  assert.deepEqual(sim.stats.byPath, { '/v1/chat/completions': 1, '/v1/models': 1 });
  assert.equal(sim.stats.inFlight, 0);
  const [chat, models] = sim.requests;
  assert.equal(chat?.method, 'POST');
  assert.equal(chat?.path, '/v1/chat/completions');
  assert.equal(chat?.url, '/v1/chat/completions?api-version=1');
  assert.equal(chat?.headers.authorization, 'Bearer backend-key');
  assert.equal(chat?.headers['x-trace'], 't1');
  assert.deepEqual(chat?.body, CHAT);
  assert.equal(models?.method, 'GET');
  assert.equal(models?.body, undefined);

  for (let i = 0; i < 120; i++) await (await fetch(`${sim.url}/v1/models?i=${i}`)).arrayBuffer();
  assert.equal(sim.requests.length, 100);
  assert.equal(sim.requests.at(-1)?.url, '/v1/models?i=119');
});
