/**
 * Graceful shutdown: readiness drops, new connections are refused, and in-flight streams finish
 * within the grace period; what outlives the grace period is cut.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, TEST_KEY, waitFor } from '../helpers/gateway.ts';

function slowStream(url: string, tokens: number): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json', 'x-sim-tokens-per-second': '40', 'x-sim-completion-tokens': String(tokens) },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'drain me' }], stream: true }),
  });
}

test('an in-flight stream finishes during the grace period while readiness reports draining', async () => {
  const t = await startTestGateway();
  try {
    const res = await slowStream(t.url, 20);
    const text = res.text();
    await waitFor(() => t.gw.handler.inFlight.size === 1);
    const closing = t.gw.close(10_000);
    const ready = await fetch(`${t.gw.adminUrl}/ready`);
    assert.equal(ready.status, 503);
    await ready.arrayBuffer();
    await assert.rejects(fetch(`${t.url}/v1/models`, { headers: { 'api-key': TEST_KEY } }), 'new connections are refused');
    const body = await text;
    assert.match(body, /data: \[DONE\]\n\n$/, 'the stream completed normally');
    await closing;
    assert.equal(t.gw.handler.inFlight.size, 0);
  } finally {
    await t.close();
  }
});

test('a stream still running when the grace period ends is cut', async () => {
  const t = await startTestGateway();
  try {
    const res = await slowStream(t.url, 400);
    const text = res.text().catch((err: unknown) => `failed: ${String(err)}`);
    await waitFor(() => t.gw.handler.inFlight.size === 1);
    const started = Date.now();
    await t.gw.close(300);
    assert.ok(Date.now() - started < 3000, 'close returns soon after the grace period');
    const body = await text;
    assert.ok(!body.includes('[DONE]'), 'a cut stream never looks complete');
  } finally {
    await t.close();
  }
});
