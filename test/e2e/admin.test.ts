/**
 * The admin listener: health, readiness, a secret-free status summary, and Prometheus metrics.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, TEST_KEY, BACKEND_KEY, type TestGateway } from '../helpers/gateway.ts';

let t: TestGateway;
before(async () => {
  t = await startTestGateway();
});
after(() => t.close());

test('/health and /ready answer 200 on a running gateway', async () => {
  const health = await fetch(`${t.gw.adminUrl}/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok' });
  const ready = await fetch(`${t.gw.adminUrl}/ready`);
  assert.equal(ready.status, 200);
  await ready.arrayBuffer();
});

test('/status summarises apis, backends and subscriptions without any key or secret', async () => {
  const res = await fetch(`${t.gw.adminUrl}/status`);
  const text = await res.text();
  const status = JSON.parse(text) as { apis: Array<{ id: string }>; backends: Array<{ id: string; credentialHeaders: string[] }>; subscriptions: Array<{ id: string; keys: number }> };
  assert.deepEqual(status.apis.map((a) => a.id).sort(), ['azure-openai', 'openai']);
  assert.deepEqual(status.backends[0]?.credentialHeaders, ['api-key']);
  assert.deepEqual(status.subscriptions, [{ id: 'team-a', product: 'starter', state: 'active', keys: 1 }]);
  assert.ok(!text.includes(TEST_KEY));
  assert.ok(!text.includes(BACKEND_KEY));
});

test('/metrics counts requests by api, operation and status, and tokens', async () => {
  const res = await fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'metrics' }], max_tokens: 3 }),
  });
  await res.arrayBuffer();
  const text = await (await fetch(`${t.gw.adminUrl}/metrics`)).text();
  assert.match(text, /tollgate_requests_total\{api="openai",operation="ChatCompletions_Create",status="200"\} 1/);
  assert.match(text, /tollgate_request_duration_seconds_count\{api="openai",operation="ChatCompletions_Create"\} 1/);
  assert.match(text, /tollgate_tokens_total\{api="openai",deployment="gpt-4o",type="completion"\} 3/);
});

test('an unknown admin path is a 404 and a POST is a 405', async () => {
  assert.equal((await fetch(`${t.gw.adminUrl}/nope`)).status, 404);
  assert.equal((await fetch(`${t.gw.adminUrl}/status`, { method: 'POST' })).status, 405);
});
