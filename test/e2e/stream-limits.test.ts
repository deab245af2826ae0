/**
 * Streams that never end, clients that never read, and event lines far larger than the usage tap
 * parses: a stream is ended at gateway.maxStreamDurationMs with a terminal error event (not counted
 * against the backend), backpressure reaches the backend instead of buffering in the gateway, and
 * the usage chunk the gateway asked for stays hidden after a 10 MB event.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { startTestGateway, TEST_KEY, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { startFakeUpstream, type FakeUpstream } from '../helpers/raw-http.ts';

const MAX_STREAM_MS = 1500;
const HEAD = '"id":"chatcmpl-x","object":"chat.completion.chunk","created":1,"model":"gpt-4o"';
const event = (choices: string, usage = 'null'): string => `data: {${HEAD},"choices":${choices},"usage":${usage}}\n\n`;
const content = (text: string): string => event(`[{"index":0,"delta":{"content":${JSON.stringify(text)}},"finish_reason":null}]`);
const USAGE = event('[]', '{"prompt_tokens":7,"completion_tokens":5,"total_tokens":12}');

let t: TestGateway;
let upstream: FakeUpstream;
/** Bytes the upstream managed to write on its current "fast" stream, and whether it was closed. */
const fast = { written: 0, closed: false };

function sse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
}

function route(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const mode = String(req.headers['x-mode'] ?? '');
  if (mode === 'trickle') {
    // One event every 100 ms, forever: never idle long enough for an idle timeout.
    sse(res);
    const timer = setInterval(() => res.write(content('.')), 100);
    res.on('close', () => clearInterval(timer));
  } else if (mode === 'trickle-bytes') {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const timer = setInterval(() => res.write('.'), 100);
    res.on('close', () => clearInterval(timer));
  } else if (mode === 'fast') {
    // Writes as fast as the gateway takes it, counting what it could hand over.
    sse(res);
    fast.written = 0;
    fast.closed = false;
    // Words, not one long run: counting the tokens locally afterwards must stay cheap.
    const piece = content('word '.repeat(3 * 1024));
    const pump = (): void => {
      if (res.destroyed || fast.closed) return;
      fast.written += piece.length;
      if (res.write(piece)) setImmediate(pump);
      else res.once('drain', pump);
    };
    res.on('close', () => (fast.closed = true));
    pump();
  } else if (mode === 'huge-event') {
    sse(res);
    res.write(content('start'));
    res.write(content('y'.repeat(10 * 1024 * 1024)));
    res.write(content('end'));
    res.write(USAGE);
    res.end('data: [DONE]\n\n');
  } else {
    res.writeHead(404).end();
  }
}

before(async () => {
  upstream = await startFakeUpstream(route);
  t = await startTestGateway({
    logLevel: 'warn',
    backend: {
      url: `${upstream.url}/openai`,
      // Any failure would open the circuit: a stream cut for its duration must not.
      circuitBreaker: { rules: [{ failureCondition: { count: 1, interval: 'PT1M', statusCodeRanges: [{ min: 500, max: 599 }] }, tripDuration: 'PT1M' }] },
    },
    config: { gateway: { listen: '127.0.0.1:0', maxStreamDurationMs: MAX_STREAM_MS } },
  });
});
after(async () => {
  await t.close();
  await upstream.close();
});

const streamChat = (mode: string, extra: Record<string, unknown> = {}): Promise<Response> =>
  fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json', 'x-mode': mode },
    body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }], ...extra }),
  });

async function circuitOpen(): Promise<boolean> {
  const status = (await (await fetch(`${t.gw.adminUrl}/status`)).json());
  return JSON.stringify(status).includes('"open"');
}

test('a stream that trickles forever ends at maxStreamDurationMs with a terminal error event, and the backend stream is closed', { timeout: 20_000 }, async () => {
  const usages = t.usages.length;
  const started = Date.now();
  const res = await streamChat('trickle');
  assert.equal(res.status, 200);
  const text = await res.text();
  const took = Date.now() - started;
  assert.ok(took >= MAX_STREAM_MS - 50 && took < MAX_STREAM_MS + 5000, `ended after ${took} ms`);
  assert.match(text, /data: \{[^\n]*"content":"\."/);
  const last = text.trimEnd().split('\n\n').at(-1) ?? '';
  assert.match(last, /^event: error\ndata: /);
  assert.equal((JSON.parse(last.split('\ndata: ')[1] as string) as { error: { code: string } }).error.code, 'GW_ERR_STREAM_DURATION_EXCEEDED');
  await waitFor(() => t.usages.length > usages, 2000, 'usage record');
  assert.equal(t.usages.at(-1)?.errorCode, 'GW_ERR_STREAM_DURATION_EXCEEDED');
  assert.equal(await circuitOpen(), false, 'the gateway limit is no backend failure');
});

test('a non-SSE body that trickles forever is cut at maxStreamDurationMs', { timeout: 20_000 }, async () => {
  const started = Date.now();
  const res = await fetch(`${t.url}/v1/files/x/content`, { headers: { 'api-key': TEST_KEY, 'x-mode': 'trickle-bytes' } });
  assert.equal(res.status, 200);
  await assert.rejects(res.arrayBuffer());
  const took = Date.now() - started;
  assert.ok(took >= MAX_STREAM_MS - 50 && took < MAX_STREAM_MS + 5000, `cut after ${took} ms`);
});

test('a client that stops reading stalls the backend (bounded buffering), and is cut at maxStreamDurationMs', { timeout: 20_000 }, async () => {
  const body = JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] });
  const url = new URL(`${t.url}/v1/chat/completions`);
  const req = httpRequest({
    host: url.hostname,
    port: url.port,
    path: url.pathname,
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json', 'x-mode': 'fast', 'content-length': Buffer.byteLength(body) },
  });
  const response = new Promise<IncomingMessage>((resolve) => req.on('response', resolve));
  req.on('error', () => undefined);
  req.end(body);
  const res = await response;
  res.pause(); // never read
  res.on('error', () => undefined);
  await waitFor(() => fast.written > 0, 2000, 'the backend to start writing');
  // Once the socket buffers between the client and the backend are full, the backend is held back.
  let last = -1;
  while (fast.written !== last && !fast.closed) {
    last = fast.written;
    await new Promise((r) => setTimeout(r, 150));
  }
  assert.ok(fast.written < 32 * 1024 * 1024, `${fast.written} bytes were taken from the backend`);
  await waitFor(() => fast.closed, MAX_STREAM_MS + 2000, 'the backend stream to be closed at the duration limit');
  res.destroy();
});

test('after a 10 MB event line the usage chunk the gateway asked for is still hidden, and its usage recorded', async () => {
  const usages = t.usages.length;
  const res = await streamChat('huge-event');
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.ok(text.length > 10 * 1024 * 1024);
  assert.match(text, /"content":"end"/);
  assert.doesNotMatch(text, /"choices":\[\]/, 'the injected usage chunk reached the client');
  assert.match(text, /data: \[DONE\]\n\n$/);
  await waitFor(() => t.usages.length > usages, 2000, 'usage record');
  const usage = t.usages.at(-1);
  assert.equal(usage?.source, 'backend');
  assert.equal(usage?.completionTokens, 5);
  // The gateway asked the backend for the usage chunk: the client did not.
  const forwarded = upstream.seen.at(-1);
  assert.equal(forwarded?.method, 'POST');
});

test('a client that asked for the usage chunk gets it after a 10 MB event line', async () => {
  const res = await streamChat('huge-event', { stream_options: { include_usage: true } });
  const text = await res.text();
  assert.match(text, /"choices":\[\],"usage":\{"prompt_tokens":7/);
});
