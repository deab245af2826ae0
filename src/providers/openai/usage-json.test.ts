import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractJsonUsage, objectAfterColon } from './usage-json.ts';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

void test('a chat completion response yields its usage and model', () => {
  const body = b(
    JSON.stringify(
      {
        id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
        object: 'chat.completion',
        created: 1741569952,
        model: 'gpt-4o-2024-08-06',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I assist you today?', refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
        usage: {
          prompt_tokens: 19,
          completion_tokens: 10,
          total_tokens: 29,
          prompt_tokens_details: { cached_tokens: 4, audio_tokens: 0 },
          completion_tokens_details: { reasoning_tokens: 2, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
        },
        service_tier: 'default',
        system_fingerprint: 'fp_fc9f1d7035',
      },
      null,
      2,
    ),
  );
  assert.deepEqual(extractJsonUsage(body), {
    tokens: { promptTokens: 19, completionTokens: 10, totalTokens: 29, cachedTokens: 4, reasoningTokens: 2 },
    model: 'gpt-4o-2024-08-06',
  });
});

void test('an Azure response (keys sorted, prompt_filter_results before a final usage) yields usage and model', () => {
  const longContent = 'All work and no play. '.repeat(400); // pushes "model" past the first 4 KiB
  const body = b(
    `{"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"finish_reason":"stop","index":0,"logprobs":null,"message":{"content":${JSON.stringify(longContent)},"refusal":null,"role":"assistant"}}],` +
      `"created":1741569952,"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","model":"gpt-4o-2024-08-06","object":"chat.completion",` +
      `"prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,"detected":false}}}],` +
      `"system_fingerprint":"fp_b705f0c291","usage":{"completion_tokens":1600,"completion_tokens_details":{"reasoning_tokens":0},"prompt_tokens":21,"prompt_tokens_details":{"cached_tokens":0},"total_tokens":1621}}`,
  );
  assert.deepEqual(extractJsonUsage(body), {
    tokens: { promptTokens: 21, completionTokens: 1600, totalTokens: 1621, cachedTokens: 0, reasoningTokens: 0 },
    model: 'gpt-4o-2024-08-06',
  });
});

void test('a multi-megabyte embeddings response yields usage from the tail, without a full parse', () => {
  const row = Array.from({ length: 1536 }, (_, i) => ((i % 97) / 1000 - 0.05).toFixed(6)).join(',');
  const data = Array.from({ length: 2000 }, (_, i) => `{"object":"embedding","index":${i},"embedding":[${row}]}`).join(',');
  const body = b(`{"object":"list","data":[${data}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8000,"total_tokens":8000}}`);
  // Far above the 1 MiB full-parse limit: only the tail path can find this usage.
  assert.ok(body.length > 20 * 1024 * 1024, `body is ${body.length} bytes`);
  const usage = extractJsonUsage(body);
  assert.deepEqual(usage, {
    tokens: { promptTokens: 8000, completionTokens: 0, totalTokens: 8000, cachedTokens: 0, reasoningTokens: 0 },
    model: 'text-embedding-3-small',
  });
});

void test('"usage": null gives no tokens but still the model', () => {
  assert.deepEqual(extractJsonUsage(b('{"id":"x","object":"chat.completion","model":"gpt-4o-mini","choices":[],"usage": null}')), {
    tokens: undefined,
    model: 'gpt-4o-mini',
  });
  assert.deepEqual(extractJsonUsage(b('{"id":"x","object":"chat.completion","choices":[]}')), { tokens: undefined, model: undefined });
  assert.deepEqual(extractJsonUsage(b('not json "usage": {')), { tokens: undefined, model: undefined });
});

void test('objectAfterColon returns the balanced object, honouring braces and escaped quotes inside strings', () => {
  const text = '"usage" : {"note":"a } and a \\" and a {","nested":{"s":"\\\\"},"prompt_tokens":3},"after":"}"';
  const buf = b(text);
  assert.equal(objectAfterColon(buf, '"usage"'.length), '{"note":"a } and a \\" and a {","nested":{"s":"\\\\"},"prompt_tokens":3}');
  assert.equal(objectAfterColon(b('"usage":\n\t {}'), 7), '{}');
  assert.equal(objectAfterColon(b('"usage": null'), 7), undefined);
  assert.equal(objectAfterColon(b('"usage": [1]'), 7), undefined);
  assert.equal(objectAfterColon(b('"usage", {}'), 7), undefined);
  assert.equal(objectAfterColon(b('"usage": {"a":"}'), 7), undefined);
});

void test('strings with braces and escaped quotes next to usage do not confuse extraction', () => {
  const body = b(
    '{"id":"chatcmpl-1","model":"gpt-4o","choices":[{"message":{"content":"say \\"usage\\": {\\"prompt_tokens\\": 999}"}}],' +
      '"usage":{"prompt_tokens":11,"completion_tokens":22,"total_tokens":33},"system_fingerprint":"fp_}{\\"\\\\"}',
  );
  assert.deepEqual(extractJsonUsage(body).tokens, { promptTokens: 11, completionTokens: 22, totalTokens: 33, cachedTokens: 0, reasoningTokens: 0 });
});

void test('a Responses API body yields input/output tokens and nested reasoning tokens', () => {
  const body = b(
    JSON.stringify({
      id: 'resp_67ccd3a9da748190baa7f1570fe91ac604becb25c45c1d41',
      object: 'response',
      created_at: 1741476777,
      status: 'completed',
      model: 'o3-mini-2025-01-31',
      output: [{ type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hi', annotations: [] }] }],
      reasoning: { effort: 'medium', summary: null },
      usage: {
        input_tokens: 36,
        input_tokens_details: { cached_tokens: 6 },
        output_tokens: 87,
        output_tokens_details: { reasoning_tokens: 64 },
        total_tokens: 123,
      },
      user: null,
      metadata: {},
    }),
  );
  assert.deepEqual(extractJsonUsage(body), {
    tokens: { promptTokens: 36, completionTokens: 87, totalTokens: 123, cachedTokens: 6, reasoningTokens: 64 },
    model: 'o3-mini-2025-01-31',
  });
});

void test('the model is found in the bytes exactly where the documented pattern finds it (first and last 4 KiB)', () => {
  // The reference: what the extraction matched before it searched bytes instead of a decoded string.
  const reference = (body: Buffer): string | undefined => {
    const re = /"model"\s*:\s*"([^"\\]{1,200})"/;
    return re.exec(body.subarray(0, 4096).toString('latin1'))?.[1] ?? re.exec(body.subarray(Math.max(0, body.length - 4096)).toString('latin1'))?.[1];
  };
  const pieces = ['"model"', ':', ' ', '\n', '\t', '\u00a0', '"', '\\', 'gpt-4o', '"model": null', 'x'.repeat(199), 'x'.repeat(200), 'y'.repeat(201), 'k', '{', '}', ',', 'é'];
  let seed = 7;
  const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
  const ws = ['', ' ', '\n ', '\t', '\u00a0', '\r\n'];
  const bodies: string[] = [];
  for (let round = 0; round < 4000; round++) {
    let s = '';
    const parts = 1 + rand(8);
    for (let i = 0; i < parts; i++) {
      // Mostly well-formed pairs with values around the 200-character limit, some noise between.
      if (rand(3) === 0) s += pieces[rand(pieces.length)];
      else s += `"model"${ws[rand(ws.length)]}:${ws[rand(ws.length)]}"${'m'.repeat(rand(3) === 0 ? 198 + rand(5) : 1 + rand(20))}${rand(10) === 0 ? '\\' : ''}"`;
    }
    // Some bodies put the pair across the first or the last 4 KiB window's edge.
    if (round % 3 === 0) s = 'p'.repeat(3900 + rand(300)) + s;
    if (round % 5 === 0) s = s + 'q'.repeat(3900 + rand(300));
    bodies.push(s);
  }
  // The closing quote exactly at the last byte of a window, and one byte past it.
  const pair = '"model": "gpt-4o"';
  for (let pad = 4096 - pair.length - 2; pad <= 4096 - pair.length + 1; pad++) {
    bodies.push('p'.repeat(pad) + pair + 'q'.repeat(5000), 'p'.repeat(5000) + pair + 'q'.repeat(pad));
  }
  let found = 0;
  for (const [i, s] of bodies.entries()) {
    const body = Buffer.from(s, i % 2 === 0 ? 'utf8' : 'latin1');
    const want = reference(body);
    if (want !== undefined) found++;
    assert.equal(extractJsonUsage(body).model, want, JSON.stringify(s.length > 200 ? s.slice(0, 80) + '…' + s.slice(-80) : s));
  }
  assert.ok(found > 1000 && found < bodies.length - 200, `both outcomes exercised (${found} of ${bodies.length} found)`);
});
