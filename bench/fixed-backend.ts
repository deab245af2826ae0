// A backend that costs as little as possible per request, so that the numbers
// measure the proxy in front of it. Every response body is precomputed bytes.
// Usage: node bench/fixed-backend.ts [port]   (or PORT=; 0 picks a free port)
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';

const MAX_BODY = 1024 * 1024;

const usage = { prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 };

const completion = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench0000000000000000000000',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'gpt-4o-mini-2024-07-18',
    system_fingerprint: 'fp_bench000',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'Hello! This is a fixed response from the Tollgate benchmark backend. It always says the same thing, so that the numbers measure the proxy and not the model.',
          refusal: null,
        },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: { ...usage, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
  }),
);

function chunk(delta: object, finish: string | null): string {
  const body = {
    id: 'chatcmpl-bench0000000000000000000000',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  };
  return `data: ${JSON.stringify(body)}\n\n`;
}

const words = ['Hello', '!', ' This', ' is', ' the', ' bench', '.'];
const events = [
  chunk({ role: 'assistant', content: '' }, null),
  ...words.map((w) => chunk({ content: w }, null)),
  chunk({}, 'stop'),
].map((s) => Buffer.from(s));
const usageEvent = Buffer.from(
  `data: ${JSON.stringify({ id: 'chatcmpl-bench0000000000000000000000', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-mini-2024-07-18', choices: [], usage })}\n\n`,
);
const done = Buffer.from('data: [DONE]\n\n');
const streamPlain = [...events, done];
const streamWithUsage = [...events, usageEvent, done];

// The semantic cache targets' embeddings backend: one fixed 1,536-dim vector (every request the
// bench sends has the same prompt, so a real model would answer the same vector too), as floats
// or, when asked (`encoding_format: "base64"`, what the gateway asks for), as little-endian float32.
const vector = Array.from({ length: 1536 }, (_, i) => Math.round(Math.sin(i + 1) * 1e6) / 1e6);
const embeddingBody = (embedding: unknown): Buffer =>
  Buffer.from(JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding }], model: 'text-embedding-3-small', usage: { prompt_tokens: 8, total_tokens: 8 } }));
const embeddingFloats = embeddingBody(vector);
const embeddingBase64 = embeddingBody(Buffer.from(new Float32Array(vector).buffer).toString('base64'));

const notFound = Buffer.from(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
const badRequest = Buffer.from(JSON.stringify({ error: { message: 'invalid JSON body', type: 'invalid_request_error' } }));

function sendJson(res: ServerResponse, status: number, body: Buffer): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}

// One event per event-loop turn: the proxy sees a real stream (first byte
// early, usage in a later chunk), not one coalesced write.
function sendStream(res: ServerResponse, parts: Buffer[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let i = 0;
  const next = (): void => {
    if (res.destroyed) return;
    const part = parts[i++];
    if (part === undefined) return void res.end();
    res.write(part);
    setImmediate(next);
  };
  next();
}

function wantsStream(raw: Buffer): { stream: boolean; usage: boolean } | undefined {
  try {
    const body = JSON.parse(raw.toString('utf8')) as { stream?: unknown; stream_options?: { include_usage?: unknown } };
    return { stream: body.stream === true, usage: body.stream_options?.include_usage === true };
  } catch {
    return undefined;
  }
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'POST' && (req.url ?? '').split('?')[0]!.endsWith('/embeddings')) {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => sendJson(res, 200, Buffer.concat(chunks).includes('"base64"') ? embeddingBase64 : embeddingFloats));
    return;
  }
  if (req.method !== 'POST' || !(req.url ?? '').split('?')[0]!.endsWith('/chat/completions')) {
    req.resume();
    return sendJson(res, 404, notFound);
  }
  const parts: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_BODY) req.destroy();
    else parts.push(c);
  });
  req.on('end', () => {
    const mode = wantsStream(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
    if (mode === undefined) sendJson(res, 400, badRequest);
    else if (!mode.stream) sendJson(res, 200, completion);
    else sendStream(res, mode.usage ? streamWithUsage : streamPlain);
  });
}

const port = Number(process.argv[2] ?? process.env['PORT'] ?? 0);
const server = createServer({ keepAliveTimeout: 60_000 }, handle);
server.listen(port, '127.0.0.1', () => {
  const addr = server.address();
  if (addr !== null && typeof addr === 'object') console.log(`READY ${addr.port}`);
});
