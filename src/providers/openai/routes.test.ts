import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchOpenAiRoute, type OpenAiRoute } from './routes.ts';

function route(method: string, suffix: string): OpenAiRoute {
  const m = matchOpenAiRoute(method, suffix);
  assert.ok(m.ok, `${method} ${suffix} did not match: ${m.ok ? '' : m.reason}`);
  return m.route;
}

void test('Azure: POST /deployments/{id}/chat/completions is ChatCompletions_Create for that deployment', () => {
  const r = route('POST', '/deployments/gpt-4o/chat/completions');
  assert.deepEqual(r, {
    spec: { id: 'ChatCompletions_Create', method: 'POST', path: 'chat/completions', jsonBody: true, usage: 'chat', sseEndsWithDone: true },
    deployment: 'gpt-4o',
    family: 'azure',
    operation: { id: 'ChatCompletions_Create', name: 'ChatCompletions_Create', method: 'POST', urlTemplate: '/deployments/{deployment-id}/chat/completions' },
  });
  assert.equal(route('POST', '/deployments/my_dep.v2-1/embeddings').deployment, 'my_dep.v2-1');
});

void test('OpenAI: POST /v1/embeddings is embeddings_create with no deployment in the path', () => {
  const r = route('POST', '/v1/embeddings');
  assert.deepEqual(r, {
    spec: { id: 'embeddings_create', method: 'POST', path: 'embeddings', jsonBody: true, usage: 'embeddings', sseEndsWithDone: false },
    deployment: null,
    family: 'v1',
    operation: { id: 'embeddings_create', name: 'embeddings_create', method: 'POST', urlTemplate: '/v1/embeddings' },
  });
});

void test('each known operation resolves under both URL families', () => {
  const ops: Array<[string, string, string]> = [
    ['POST', 'chat/completions', 'ChatCompletions_Create'],
    ['POST', 'completions', 'Completions_Create'],
    ['POST', 'embeddings', 'embeddings_create'],
    ['POST', 'responses', 'Responses_Create'],
    ['POST', 'images/generations', 'ImageGenerations_Create'],
    ['POST', 'audio/transcriptions', 'Transcriptions_Create'],
    ['POST', 'audio/translations', 'Translations_Create'],
  ];
  for (const [method, path, id] of ops) {
    assert.equal(route(method, `/v1/${path}`).operation.id, id, `/v1/${path}`);
    assert.equal(route(method, `/deployments/d1/${path}`).operation.id, id, `/deployments/d1/${path}`);
  }
});

void test('GET /v1/models and GET /models list models', () => {
  const v1 = route('GET', '/v1/models');
  assert.equal(v1.spec.id, 'Models_List');
  assert.equal(v1.family, 'v1');
  assert.equal(v1.deployment, null);
  assert.equal(v1.operation.urlTemplate, '/v1/models');
  const azure = route('GET', '/models');
  assert.equal(azure.spec.id, 'Models_List');
  assert.equal(azure.family, 'azure');
  assert.equal(azure.deployment, null);
});

void test(
  'GET /models reports its own URL template',
  () => {
    assert.equal(route('GET', '/models').operation.urlTemplate, '/models');
  },
);

void test('a known path with the wrong method is reason "method"', () => {
  assert.deepEqual(matchOpenAiRoute('GET', '/v1/chat/completions'), { ok: false, reason: 'method' });
  assert.deepEqual(matchOpenAiRoute('GET', '/deployments/gpt-4o/chat/completions'), { ok: false, reason: 'method' });
  assert.deepEqual(matchOpenAiRoute('POST', '/v1/models'), { ok: false, reason: 'method' });
  assert.deepEqual(matchOpenAiRoute('DELETE', '/models'), { ok: false, reason: 'method' });
});

void test('traversal, encoded slashes and unknown shapes are not found', () => {
  for (const suffix of [
    '/deployments/../x',
    '/deployments/../chat/completions',
    '/deployments/a%2Fb/chat/completions',
    '/deployments/.hidden/chat/completions',
    '/deployments/gpt-4o/../../admin',
    '/deployments/gpt-4o/',
    '/deployments/gpt-4o',
    '/v1/',
    '/v1/../admin',
    '/v1',
    '/nope',
    '/',
    '',
  ]) {
    assert.deepEqual(matchOpenAiRoute('POST', suffix), { ok: false, reason: 'not-found' }, suffix);
  }
});

void test(
  'an empty path segment right after /v1/ or the deployment is not found',
  () => {
    for (const suffix of ['/v1//chat/completions', '/deployments/gpt-4o//chat/completions']) {
      assert.deepEqual(matchOpenAiRoute('POST', suffix), { ok: false, reason: 'not-found' }, suffix);
    }
  },
);

void test('an operation the table does not know is forwarded as Passthrough, with the request method', () => {
  const files = route('GET', '/v1/files');
  assert.deepEqual(files, {
    spec: { id: 'Passthrough', path: '*', jsonBody: false, usage: 'none', sseEndsWithDone: false, method: 'GET' },
    deployment: null,
    family: 'v1',
    operation: { id: 'Passthrough', name: 'Passthrough', method: 'GET', urlTemplate: '/v1/*' },
  });
  const azure = route('POST', '/deployments/gpt-4o/extensions/chat/completions');
  assert.equal(azure.spec.id, 'Passthrough');
  assert.equal(azure.deployment, 'gpt-4o');
  assert.equal(azure.operation.urlTemplate, '/deployments/{deployment-id}/*');
});
