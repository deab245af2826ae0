/**
 * Products and subscriptions decide who may call which API, as in API Management.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';

const OTHER_KEY = 'tg-other-product-key-000001';
const SUSPENDED_KEY = 'tg-suspended-key-0000000001';

let t: TestGateway;
before(async () => {
  t = await startTestGateway({
    extraBackends: { plain: { urlFromSim: true } },
    extraApis: {
      internal: { path: 'internal', type: 'openai', backend: 'sim' },
      open: { path: 'open', type: 'openai', backend: 'sim', subscriptionRequired: false },
      raw: { path: 'raw', type: 'http', backend: 'plain' },
    },
    config: {
      products: {
        starter: { apis: ['openai', 'azure-openai', 'open', 'raw'] },
        internal: { apis: ['internal'] },
      },
      subscriptions: {
        'team-a': { product: 'starter', keys: [TEST_KEY] },
        'team-b': { product: 'internal', keys: [OTHER_KEY] },
        'team-c': { product: 'starter', keys: [SUSPENDED_KEY], state: 'suspended' },
      },
    },
  });
});
after(() => t.close());

const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'scope' }], max_tokens: 2 });
async function call(path: string, headers: Record<string, string>): Promise<{ status: number; code: string | undefined }> {
  const res = await fetch(t.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const json = (await res.json()) as { error?: { code: string } };
  return { status: res.status, code: json.error?.code };
}

test('a key is valid only for the APIs of its product', async () => {
  assert.deepEqual(await call('/internal/v1/chat/completions', { 'api-key': OTHER_KEY }), { status: 200, code: undefined });
  assert.deepEqual(await call('/v1/chat/completions', { 'api-key': OTHER_KEY }), { status: 401, code: 'GW_ERR_AUTH_KEY_NOT_IN_SCOPE' });
  assert.deepEqual(await call('/internal/v1/chat/completions', { 'api-key': TEST_KEY }), { status: 401, code: 'GW_ERR_AUTH_KEY_NOT_IN_SCOPE' });
});

test('a suspended subscription gets 403', async () => {
  assert.deepEqual(await call('/v1/chat/completions', { 'api-key': SUSPENDED_KEY }), { status: 403, code: 'GW_ERR_AUTH_SUBSCRIPTION_INACTIVE' });
});

test('an API with subscriptionRequired: false takes anonymous calls, but a wrong key is still refused', async () => {
  assert.deepEqual(await call('/open/v1/chat/completions', {}), { status: 200, code: undefined });
  assert.deepEqual(await call('/open/v1/chat/completions', { 'api-key': 'tg-not-a-real-key-000' }), { status: 401, code: 'GW_ERR_AUTH_INVALID_KEY' });
});

test('an http API forwards any path below its mount point unchanged', async () => {
  const res = await fetch(`${t.url}/raw/v1/models?x=1`, { headers: { 'api-key': TEST_KEY } });
  assert.equal(res.status, 200);
  const models = (await res.json()) as { object: string };
  assert.equal(models.object, 'list');
  const seen = t.sim.requests.at(-1)!;
  assert.equal(seen.url, '/openai/v1/models?x=1');
});

test('the usage record of a JSON answer names who called what, and how it went', async () => {
  const res = await fetch(`${t.url}/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'who am I' }], max_tokens: 3 }),
  });
  const json = (await res.json()) as { usage: { prompt_tokens: number } };
  const id = res.headers.get('x-request-id');
  const usage = t.usages.find((u) => u.requestId === id);
  assert.ok(usage, 'published by the time the response is complete');
  assert.deepEqual(
    { ...usage, latencyMs: 0, timeToFirstByteMs: 0, timestamp: '' },
    {
      requestId: id,
      clientRequestId: null,
      timestamp: '',
      promptTokens: json.usage.prompt_tokens,
      completionTokens: 3,
      totalTokens: json.usage.prompt_tokens + 3,
      cachedTokens: 0,
      reasoningTokens: 0,
      source: 'backend',
      model: 'gpt-4o-mini',
      deployment: 'gpt-4o-mini',
      backend: 'sim',
      subscription: 'team-a',
      product: 'starter',
      api: 'azure-openai',
      operation: 'ChatCompletions_Create',
      status: 200,
      streamed: false,
      latencyMs: 0,
      timeToFirstByteMs: 0,
      errorCode: null,
      cache: null,
      cacheScore: null,
      embeddingTokens: 0,
    },
  );
  assert.ok(usage.latencyMs > 0);
  assert.match(usage.timestamp, /^\d{4}-\d{2}-\d{2}T/);
});
