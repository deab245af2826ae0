/**
 * Streams pass through unbuffered, a client that leaves takes the backend request with it, and a
 * backend that dies or stalls mid-stream gives the client a terminal error event, never a clean end.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, TEST_KEY, waitFor, type TestGateway } from '../helpers/gateway.ts';

let t: TestGateway;
before(async () => {
  t = await startTestGateway({ backend: { timeouts: { connectMs: 2000, responseHeadersMs: 5000, idleStreamMs: 400 } } });
});
after(() => t.close());

function chat(extraHeaders: Record<string, string>, body: Record<string, unknown> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json', ...extraHeaders },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'stream test' }], stream: true, ...body }),
    ...(signal && { signal }),
  });
}

async function readAll(res: Response): Promise<string> {
  return res.text();
}

test('the first chunk reaches the client while the backend is still producing later ones', async () => {
  const res = await chat({ 'x-sim-tokens-per-second': '20', 'x-sim-completion-tokens': '20' });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const reader = res.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  const decoder = new TextDecoder();
  let seen = '';
  while (!seen.includes('"content":" ')) {
    const { value, done } = await reader.read();
    assert.equal(done, false, 'stream ended before any content');
    seen += decoder.decode(value, { stream: true });
  }
  // The simulator is still producing (20 tokens at 20/s): the gateway did not wait for the end.
  assert.equal(t.sim.stats.inFlight, 1, 'backend response must still be in flight when the first content arrives');
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += decoder.decode(value, { stream: true });
  }
  assert.match(seen, /data: \[DONE\]\n\n$/);
});

test('a client that disconnects mid-stream aborts the backend request, and usage is recorded as 499', async () => {
  const before = t.sim.stats.clientAborts;
  const ac = new AbortController();
  const res = await chat({ 'x-sim-tokens-per-second': '20', 'x-sim-completion-tokens': '40' }, {}, ac.signal);
  const requestId = res.headers.get('x-request-id');
  const reader = res.body!.getReader();
  await reader.read();
  ac.abort();
  await waitFor(() => t.sim.stats.clientAborts === before + 1, 3000, 'the backend to see the connection close');
  await waitFor(() => t.usages.some((u) => u.requestId === requestId), 3000, 'usage record');
  const usage = t.usages.find((u) => u.requestId === requestId)!;
  assert.equal(usage.status, 499);
  assert.equal(usage.source, 'estimated', 'a cut stream is billed from what was sent');
  assert.ok(usage.promptTokens > 0);
});

test('a client that hangs up before the backend answers is recorded as 499 and logged as no backend failure', async () => {
  const before = t.sim.stats.clientAborts;
  const ac = new AbortController();
  const pending = fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json', 'x-sim-latency-ms': '1500', 'x-request-id': 'hangup-before-headers' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'slow answer' }] }),
    signal: ac.signal,
  }).catch(() => undefined);
  await waitFor(() => t.sim.stats.inFlight > 0, 3000, 'the request to reach the backend');
  ac.abort();
  await pending;
  // Well before its 1.5 s latency is over: the gateway cancelled the backend request.
  await waitFor(() => t.sim.stats.clientAborts === before + 1, 1000, 'the backend to see the connection close');
  await waitFor(() => t.usages.some((u) => u.clientRequestId === 'hangup-before-headers'), 5000, 'usage record');
  const usage = t.usages.find((u) => u.clientRequestId === 'hangup-before-headers')!;
  assert.equal(usage.status, 499);
  const lines = t.logs.filter((l) => l.includes(usage.requestId)).map((l) => JSON.parse(l) as { level: number; msg: string });
  assert.ok(lines.some((l) => l.msg === 'client closed the connection before the answer'), 'the hang-up is logged (debug)');
  assert.ok(lines.every((l) => l.level < 40), `no warning for a client that left: ${JSON.stringify(lines)}`);
});

test('a backend that dies mid-stream ends the client stream with an error event and no [DONE]', async () => {
  const res = await chat({ 'x-sim-fail': 'cut-after:3' });
  assert.equal(res.status, 200);
  const text = await readAll(res);
  assert.ok(!text.includes('[DONE]'), 'must not look like a complete stream');
  const events = text.trim().split('\n\n');
  const last = events.at(-1)!;
  assert.match(last, /^event: error\ndata: /);
  const body = JSON.parse(last.split('\n')[1]!.slice(6)) as { error: { code: string; request_id: string } };
  assert.equal(body.error.code, 'GW_ERR_BACKEND_STREAM_ABORTED');
  assert.equal(body.error.request_id, res.headers.get('x-request-id'));
  assert.equal(text.match(/"content":" /g)?.length, 3, 'the three chunks sent before the cut arrive once each');
});

test('a stream that stalls longer than idleStreamMs ends with a timeout error event', async () => {
  const res = await chat({ 'x-sim-fail': 'stall-after:2' });
  const text = await readAll(res);
  const last = text.trim().split('\n\n').at(-1)!;
  assert.match(last, /^event: error\n/);
  assert.match(last, /GW_ERR_BACKEND_TIMEOUT/);
  assert.ok(!text.includes('[DONE]'));
});

test('the usage chunk the gateway requested is hidden, and the stream is otherwise what the backend sent', async () => {
  const res = await chat({ 'x-sim-completion-tokens': '4' });
  const text = await readAll(res);
  assert.ok(!/"usage":\{/.test(text), 'no usage object may reach a client that did not ask for it');
  assert.equal(text.match(/"content":" /g)?.length, 4);
  const requestId = res.headers.get('x-request-id');
  await waitFor(() => t.usages.some((u) => u.requestId === requestId));
  const usage = t.usages.find((u) => u.requestId === requestId)!;
  assert.equal(usage.completionTokens, 4);
  assert.equal(usage.source, 'backend');
  const forwarded = t.sim.requests.at(-1)!.body as { stream_options?: { include_usage?: boolean } };
  assert.equal(forwarded.stream_options?.include_usage, true, 'the gateway asks the backend for usage');
});
