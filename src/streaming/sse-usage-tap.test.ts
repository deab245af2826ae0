import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseUsageTap } from './sse-usage-tap.ts';
import type { TokenCounts } from '../core/usage.ts';
import { createPrng } from '../util/hash.ts';

const HEAD = '"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_eb9dce56a8"';

function chunk(choices: string, usage = 'null'): string {
  return `data: {${HEAD},"choices":${choices},"usage":${usage}}\n\n`;
}

function content(text: string): string {
  return chunk(`[{"index":0,"delta":{"content":${JSON.stringify(text)}},"logprobs":null,"finish_reason":null}]`);
}

const ROLE = chunk('[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]');
// Content that looks like the things the tap searches for: braces, escaped quotes, "usage", multi-byte UTF-8.
const CONTENT = [content('Hello'), content(', wörld ✓ '), content('{"usage": {"prompt_tokens": 1}} '), content('\\"}{ end')];
const FINISH = chunk('[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]');
const USAGE = `data: {${HEAD},"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21,"prompt_tokens_details":{"cached_tokens":3,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}\n\n`;
const DONE = 'data: [DONE]\n\n';

const STREAM = ROLE + CONTENT.join('') + FINISH + USAGE + DONE;
const WITHOUT_USAGE = ROLE + CONTENT.join('') + FINISH + DONE;
const TEXT = 'Hello, wörld ✓ {"usage": {"prompt_tokens": 1}} \\"}{ end';
const TOKENS: TokenCounts = { promptTokens: 9, completionTokens: 12, totalTokens: 21, cachedTokens: 3, reasoningTokens: 0 };

/** Feeds the chunks and the final flush; returns everything the client would receive. */
function run(tap: SseUsageTap, chunks: readonly Buffer[]): Buffer {
  const out: Buffer[] = [];
  for (const c of chunks) {
    const o = tap.push(c);
    if (o !== undefined) out.push(o);
  }
  const rest = tap.flush();
  if (rest !== undefined) out.push(rest);
  return Buffer.concat(out);
}


function randomChunks(buf: Buffer, random: () => number, min = 1, max = 7): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; ) {
    const n = min + Math.floor(random() * (max - min + 1));
    out.push(buf.subarray(i, i + n));
    i += n;
  }
  return out;
}

void test('stripUsageChunk: the output is the input minus exactly the usage event, and the usage is read', () => {
  const tap = new SseUsageTap({ stripUsageChunk: true });
  const out = run(tap, [Buffer.from(STREAM)]);
  assert.equal(out.toString('utf8'), WITHOUT_USAGE);
  assert.deepEqual(tap.tokens, TOKENS);
  assert.equal(tap.model, 'gpt-4o-2024-08-06');
  assert.equal(tap.sawDone, true);
  assert.equal(tap.oversizedEvents, 0);
});

void test('without stripUsageChunk the output is byte-identical to the input', () => {
  const tap = new SseUsageTap({ stripUsageChunk: false });
  const input = Buffer.from(STREAM);
  assert.deepEqual(run(tap, [input]), input);
  assert.deepEqual(tap.tokens, TOKENS);
  assert.equal(tap.sawDone, true);
});

void test('a stream split into two chunks at every byte boundary gives the same output and usage', () => {
  const input = Buffer.from(STREAM);
  const stripped = Buffer.from(WITHOUT_USAGE);
  for (const strip of [true, false]) {
    for (let i = 0; i <= input.length; i++) {
      const tap = new SseUsageTap({ stripUsageChunk: strip });
      const out = run(tap, [input.subarray(0, i), input.subarray(i)]);
      assert.deepEqual(out, strip ? stripped : input, `strip=${strip}, split at byte ${i}`);
      assert.deepEqual(tap.tokens, TOKENS, `strip=${strip}, split at byte ${i}`);
      assert.equal(tap.sawDone, true, `strip=${strip}, split at byte ${i}`);
    }
  }
});

void test('a stream fed in random 1-7 byte chunks gives the same output and usage (seeded)', () => {
  const input = Buffer.from(STREAM);
  const stripped = Buffer.from(WITHOUT_USAGE);
  const random = createPrng(0x5eed);
  for (let round = 0; round < 300; round++) {
    const strip = round % 2 === 0;
    const tap = new SseUsageTap({ stripUsageChunk: strip });
    const out = run(tap, randomChunks(input, random));
    assert.deepEqual(out, strip ? stripped : input, `round ${round}`);
    assert.deepEqual(tap.tokens, TOKENS, `round ${round}`);
    assert.equal(tap.model, 'gpt-4o-2024-08-06', `round ${round}`);
    assert.equal(tap.collectedText(), TEXT, `round ${round}`);
  }
});

void test('CRLF event boundaries: the usage event is stripped whole and usage is read, however the bytes arrive', () => {
  const input = Buffer.from(STREAM.replaceAll('\n\n', '\r\n\r\n'));
  const expected = Buffer.from(WITHOUT_USAGE.replaceAll('\n\n', '\r\n\r\n'));
  assert.equal(input.length - expected.length, Buffer.byteLength(USAGE) + 2);

  const whole = new SseUsageTap({ stripUsageChunk: true });
  assert.deepEqual(run(whole, [input]), expected);
  assert.deepEqual(whole.tokens, TOKENS);
  assert.equal(whole.sawDone, true);

  for (let i = 0; i <= input.length; i++) {
    const tap = new SseUsageTap({ stripUsageChunk: true });
    assert.deepEqual(run(tap, [input.subarray(0, i), input.subarray(i)]), expected, `split at byte ${i}`);
    assert.deepEqual(tap.tokens, TOKENS, `split at byte ${i}`);
  }
  const random = createPrng(42);
  for (let round = 0; round < 100; round++) {
    const tap = new SseUsageTap({ stripUsageChunk: true });
    assert.deepEqual(run(tap, randomChunks(input, random)), expected, `round ${round}`);
    assert.deepEqual(tap.tokens, TOKENS, `round ${round}`);
  }
});

void test("Azure's leading prompt_filter_results chunk (choices: [], no usage) is kept; its usage chunk is stripped", () => {
  const filter =
    'data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}]}\n\n';
  const filterNullUsage = filter.replace(']}\n\n', '],"usage":null}\n\n');
  const azureUsage =
    'data: {"choices":[],"created":1741570283,"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk","system_fingerprint":"fp_b705f0c291","usage":{"completion_tokens":12,"completion_tokens_details":{"reasoning_tokens":0},"prompt_tokens":9,"prompt_tokens_details":{"cached_tokens":3},"total_tokens":21}}\n\n';
  for (const first of [filter, filterNullUsage]) {
    const input = first + ROLE + CONTENT.join('') + FINISH + azureUsage + DONE;
    const tap = new SseUsageTap({ stripUsageChunk: true });
    const out = run(tap, [Buffer.from(input)]);
    assert.equal(out.toString('utf8'), first + ROLE + CONTENT.join('') + FINISH + DONE);
    assert.deepEqual(tap.tokens, TOKENS);
    assert.equal(tap.model, 'gpt-4o-2024-08-06');

    // Alone, the filter chunk goes straight through.
    const alone = new SseUsageTap({ stripUsageChunk: true });
    assert.equal(alone.push(Buffer.from(first))?.toString('utf8'), first);
    assert.equal(alone.tokens, undefined);
  }
});

void test('a Responses API stream: usage is read from response.completed and nothing is stripped', () => {
  const input =
    'event: response.created\ndata: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","model":"gpt-4o-2024-08-06","output":[],"usage":null}}\n\n' +
    'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":1,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi"}\n\n' +
    'event: response.completed\ndata: {"type":"response.completed","response":{"usage":{"input_tokens":5,"output_tokens":7,"total_tokens":12}}}\n\n';
  const tap = new SseUsageTap({ stripUsageChunk: true });
  assert.equal(run(tap, [Buffer.from(input)]).toString('utf8'), input);
  assert.deepEqual(tap.tokens, { promptTokens: 5, completionTokens: 7, totalTokens: 12, cachedTokens: 0, reasoningTokens: 0 });
  assert.equal(tap.model, 'gpt-4o-2024-08-06');
  assert.equal(tap.sawDone, false);
});

void test('an event larger than maxEventBytes passes through unparsed, and the usage chunk after it is still read and stripped', () => {
  const big = content('x'.repeat(2 * USAGE.length));
  const input = Buffer.from(ROLE + big + CONTENT.join('') + FINISH + USAGE + DONE);
  const expected = Buffer.from(ROLE + big + CONTENT.join('') + FINISH + DONE);
  for (let seed = 1; seed <= 40; seed++) {
    const tap = new SseUsageTap({ stripUsageChunk: true, maxEventBytes: USAGE.length + 16 });
    const out = run(tap, randomChunks(input, createPrng(seed), 16, 64));
    assert.deepEqual(out.toString('utf8'), expected.toString('utf8'), `seed ${seed}`);
    assert.equal(tap.oversizedEvents, 1);
    assert.deepEqual(tap.tokens, TOKENS);
    assert.equal(tap.model, 'gpt-4o-2024-08-06');
    assert.equal(tap.sawDone, true);
  }
});

void test('an oversized event ended by a blank line split across chunks at every byte, CRLF or LF', () => {
  for (const nl of ['\n', '\r\n']) {
    const big = `data: ${'y'.repeat(3 * USAGE.length)}${nl}${nl}`;
    const input = Buffer.from(ROLE + big + USAGE + DONE);
    const expected = Buffer.from(ROLE + big + DONE);
    for (let i = ROLE.length + USAGE.length + 100; i <= input.length; i++) {
      const tap = new SseUsageTap({ stripUsageChunk: true, maxEventBytes: USAGE.length + 16 });
      // The oversized event's first part (past the limit), then a cut at every later position.
      const first = ROLE.length + USAGE.length + 100;
      const out = run(tap, [input.subarray(0, first), input.subarray(first, Math.max(i, first)), input.subarray(Math.max(i, first))]);
      assert.deepEqual(out.toString('utf8'), expected.toString('utf8'), `nl=${JSON.stringify(nl)} split at ${i}`);
      assert.deepEqual(tap.tokens, TOKENS);
    }
  }
});

void test('an event of 10 MB in 64 KiB chunks is passed on as it comes, holding at most maxEventBytes', () => {
  const big = Buffer.from(`data: ${'z'.repeat(10 * 1024 * 1024)}\n\n`);
  const input = Buffer.concat([Buffer.from(ROLE), big, Buffer.from(USAGE + DONE)]);
  const tap = new SseUsageTap({ stripUsageChunk: true });
  let out = 0;
  let held = 0;
  for (let at = 0; at < input.length; at += 65536) {
    const piece = input.subarray(at, at + 65536);
    out += tap.push(piece)?.length ?? 0;
    held = Math.max(held, at + piece.length - out);
  }
  out += tap.flush()?.length ?? 0;
  assert.equal(out, input.length - USAGE.length);
  assert.ok(held <= 1024 * 1024 + 65536, `held ${held} bytes`);
  assert.deepEqual(tap.tokens, TOKENS);
  assert.equal(tap.sawDone, true);
});

void test('collectedText() returns the concatenated delta content', () => {
  const tap = new SseUsageTap({ stripUsageChunk: true });
  run(tap, [Buffer.from(STREAM)]);
  assert.equal(tap.collectedText(), TEXT);
});

void test('flush() returns an incomplete trailing event unchanged', () => {
  const tap = new SseUsageTap({ stripUsageChunk: true });
  const cut = Buffer.from(USAGE.slice(0, 150));
  assert.equal(tap.push(Buffer.from(ROLE))?.toString('utf8'), ROLE);
  assert.equal(tap.push(cut), undefined);
  assert.deepEqual(tap.flush(), cut);
  assert.equal(tap.flush(), undefined);
  assert.equal(tap.tokens, undefined);
  assert.equal(tap.sawDone, false);
});

void test('each event is returned by push() as soon as it is complete, never held for the next one', () => {
  const tap = new SseUsageTap({ stripUsageChunk: true });
  const first = CONTENT[0]!;
  assert.equal(tap.push(Buffer.from(ROLE))?.toString('utf8'), ROLE);
  // The first content event arrives in two pieces: nothing until its blank line, then all of it.
  assert.equal(tap.push(Buffer.from(first.slice(0, 40))), undefined);
  assert.equal(tap.push(Buffer.from(first.slice(40)))?.toString('utf8'), first);
  // A complete event followed by part of the next: the complete one goes out now.
  const second = CONTENT[1]!;
  assert.equal(tap.push(Buffer.from(second + FINISH.slice(0, 10)))?.toString('utf8'), second);
  assert.equal(tap.push(Buffer.from(FINISH.slice(10)))?.toString('utf8'), FINISH);
  // The usage event alone is swallowed; [DONE] follows at once.
  assert.equal(tap.push(Buffer.from(USAGE)), undefined);
  assert.equal(tap.push(Buffer.from(DONE))?.toString('utf8'), DONE);
  assert.equal(tap.flush(), undefined);
  assert.deepEqual(tap.tokens, TOKENS);
  assert.equal(tap.sawDone, true);
});
