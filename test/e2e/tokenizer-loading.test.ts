/**
 * The tokenizer's rank tables (o200k_base ~75 MB, cl100k_base ~15 MB more) load only when a
 * count is needed, and only the encoding of the model being counted: a gateway whose backend
 * reports usage and that has no estimating limit never loads one. (This file's process runs
 * nothing else that counts; the test simulator is started but not called.)
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestGateway, TEST_KEY, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { loadedEncodings } from '../../src/tokenizer/index.ts';

let t: TestGateway;
let fake: Server;
before(async () => {
  // JSON answers carry usage; streamed answers do not.
  fake = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const { model, stream } = JSON.parse(body) as { model: string; stream?: boolean };
      if (stream === true) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: { content: 'hello there' } }] })}\n\n`);
        res.end('data: [DONE]\n\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'c', object: 'chat.completion', model, choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } }));
    });
  });
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  t = await startTestGateway({
    extraBackends: { fake: { url: `http://127.0.0.1:${(fake.address() as AddressInfo).port}` } },
    extraApis: { plain: { path: 'plain', type: 'openai', backend: 'fake' } },
  });
});
after(async () => {
  await t.close();
  await new Promise((resolve) => fake.close(resolve));
});

function chat(body: Record<string, unknown>): Promise<Response> {
  return fetch(`${t.url}/plain/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'count me' }], ...body }),
  });
}

void test('no table loads while answers carry usage; an estimate loads only its model’s encoding', async () => {
  const res = await chat({ model: 'gpt-4o' });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  await waitFor(() => t.usages.length === 1, 5000, 'usage record');
  assert.equal(t.usages[0]?.source, 'backend');
  assert.deepEqual(loadedEncodings(), [], 'nothing needed a count');

  const streamed = await chat({ model: 'gpt-4', stream: true });
  assert.equal(streamed.status, 200);
  await streamed.text();
  await waitFor(() => t.usages.length === 2, 5000, 'usage record');
  assert.equal(t.usages[1]?.source, 'estimated');
  assert.deepEqual(loadedEncodings(), ['cl100k_base'], 'gpt-4 counts with cl100k_base only');
});
