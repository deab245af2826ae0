/**
 * A client that leaves takes its backend request with it, with the default response-headers
 * timeout (no precise deadline of its own: the request context cancels the exchange itself,
 * RequestContext.onAbort) as with a short one (tested in streaming.test.ts).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, TEST_KEY, waitFor, type TestGateway } from '../helpers/gateway.ts';

let t: TestGateway;
before(async () => {
  t = await startTestGateway();
});
after(() => t.close());

function chat(headers: Record<string, string>, stream: boolean, signal: AbortSignal): Promise<Response> {
  return fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'abort test' }], stream }),
    signal,
  });
}

void test('a client that hangs up before the backend answers cancels the backend request at once', async () => {
  const before = t.sim.stats.clientAborts;
  const ac = new AbortController();
  const pending = chat({ 'x-sim-latency-ms': '3000', 'x-request-id': 'abort-before-headers' }, false, ac.signal).catch(() => undefined);
  await waitFor(() => t.sim.stats.inFlight > 0, 3000, 'the request to reach the backend');
  ac.abort();
  await pending;
  await waitFor(() => t.sim.stats.clientAborts === before + 1, 1000, 'the backend to see the connection close');
  await waitFor(() => t.usages.some((u) => u.clientRequestId === 'abort-before-headers'), 5000, 'usage record');
  assert.equal(t.usages.find((u) => u.clientRequestId === 'abort-before-headers')?.status, 499);
});

void test('a client that disconnects mid-stream cancels the backend stream', async () => {
  const before = t.sim.stats.clientAborts;
  const ac = new AbortController();
  const res = await chat({ 'x-sim-tokens-per-second': '10', 'x-sim-completion-tokens': '60' }, true, ac.signal);
  const reader = res.body!.getReader();
  await reader.read();
  ac.abort();
  await waitFor(() => t.sim.stats.clientAborts === before + 1, 1000, 'the backend to see the connection close');
  assert.equal(t.sim.stats.inFlight, 0);
});

void test('requests after a cancelled one are served on the same backend', async () => {
  const res = await chat({}, false, new AbortController().signal);
  assert.equal(res.status, 200);
  assert.ok(((await res.json()) as { usage?: unknown }).usage !== undefined);
});
