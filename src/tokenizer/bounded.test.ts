import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { CountBudget, EXACT_BUDGET_CHARS, SEGMENT_CHARS, countBounded } from './bounded.ts';
import { countPromptTokens, countTextTokens } from './index.ts';

const require = createRequire(import.meta.url);
const o200k = require('gpt-tokenizer/encoding/o200k_base') as { encode(t: string, o?: object): number[] };
const PLAIN = { disallowedSpecial: new Set<string>() };
const exact = (text: string): number => o200k.encode(text, PLAIN).length;

/** Records every segment the BPE would be handed. */
function recorder(): { count: (s: string) => number; segments: string[] } {
  const segments: string[] = [];
  return { segments, count: (s) => (segments.push(s), exact(s)) };
}

void test('a megabyte with no spaces reaches the BPE only in short segments, and only a budget of them', () => {
  const text = 'x'.repeat(1 << 20);
  const r = recorder();
  const tokens = countBounded(text, r.count, new CountBudget());
  assert.ok(r.segments.length > 0);
  assert.ok(r.segments.every((s) => s.length <= SEGMENT_CHARS), 'no segment longer than SEGMENT_CHARS');
  const handed = r.segments.reduce((sum, s) => sum + s.length, 0);
  assert.ok(handed <= EXACT_BUDGET_CHARS, `${handed} characters went to the BPE`);
  // 'x' runs encode to a handful of long tokens; the extrapolation stays in that range.
  const perSegment = exact('x'.repeat(SEGMENT_CHARS));
  assert.ok(Math.abs(tokens - ((1 << 20) / SEGMENT_CHARS) * perSegment) / tokens < 0.05, `estimate ${tokens}`);
});

void test('ordinary text within the budget counts exactly as one encode call would', () => {
  const samples = [
    'The quick brown fox jumps over the lazy dog.  Twice   spaced\n\nand new lines, "quotes" and 1234567 numbers. '.repeat(60),
    'function f(a, b) {\n  return a.map((x) => x * b).filter(Boolean); // comment\n}\n'.repeat(80),
    JSON.stringify({ items: Array.from({ length: 120 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a b', 'c'] })) }),
    '日本語のテキストと English words が混ざった文章です。 これは テスト です。 '.repeat(80),
  ];
  for (const text of samples) {
    assert.ok(text.length <= EXACT_BUDGET_CHARS);
    const r = recorder();
    assert.equal(countBounded(text, r.count, new CountBudget()), exact(text));
    assert.ok(r.segments.every((s) => s.length <= SEGMENT_CHARS));
  }
});

void test('text larger than the budget is sampled and extrapolated within a few percent', () => {
  const words = 'the gateway counts tokens in bounded time while keeping estimates close to exact values'.split(' ');
  let seed = 5;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const text = Array.from({ length: 60_000 }, () => words[Math.floor(rnd() * words.length)]).join(' ');
  const r = recorder();
  const estimate = countBounded(text, r.count, new CountBudget());
  const truth = exact(text);
  assert.ok(Math.abs(estimate - truth) / truth < 0.03, `estimate ${estimate} vs exact ${truth}`);
  assert.ok(r.segments.reduce((sum, s) => sum + s.length, 0) <= EXACT_BUDGET_CHARS);
});

void test('the budget covers a whole request: many long strings cost no more than one', () => {
  const segments: number[] = [];
  const counting = (s: string): number => (segments.push(s.length), exact(s));
  const budget = new CountBudget();
  let total = 0;
  for (let i = 0; i < 200; i++) total += countBounded(`${i}`.padEnd(20_000, 'q'), counting, budget);
  assert.ok(total > 0);
  assert.ok(segments.reduce((a, b) => a + b, 0) <= EXACT_BUDGET_CHARS);
});

void test('prompt and completion counts of megabytes of one word stay linear and plausible', () => {
  const word = 'ab'.repeat(1 << 19); // 1 MiB, one pre-tokenizer piece
  const completion = countTextTokens(word, 'gpt-4o');
  const prompt = countPromptTokens({ model: 'gpt-4o', messages: [{ role: 'user', content: word }] }, 'chat');
  const perSegment = exact('ab'.repeat(SEGMENT_CHARS / 2));
  const expected = ((1 << 20) / SEGMENT_CHARS) * perSegment;
  assert.ok(Math.abs(completion - expected) / expected < 0.05, `completion ${completion} vs ${expected}`);
  assert.ok(Math.abs(prompt - expected) / expected < 0.05, `prompt ${prompt} vs ${expected}`);
});
