import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { CountBudget, EXACT_BUDGET_CHARS, countBounded } from './bounded.ts';
import { CountMemo, MEMO_MAX_STRING_CHARS, memoTokens } from './count-memo.ts';
import { countPromptTokens, encodeText } from './index.ts';

const require = createRequire(import.meta.url);
const o200k = require('gpt-tokenizer/encoding/o200k_base') as { encode(t: string, o?: object): number[] };
const PLAIN = { disallowedSpecial: new Set<string>() };
const exact = (text: string): number => o200k.encode(text, PLAIN).length;

/** Strings of every kind counting treats apart: short, multi-segment, long runs, over the budget. */
function corpus(): string[] {
  let seed = 11;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const words = 'the gateway counts tokens of every message a client resends on each turn of a chat'.split(' ');
  const prose = (n: number): string => Array.from({ length: n }, () => words[Math.floor(rnd() * words.length)]).join(' ');
  return [
    'system',
    'user',
    'You are a concise assistant that answers questions about distributed systems.',
    prose(40),
    prose(400), // several segments
    prose(2500), // ~13 Ki characters: most of a request's exact budget
    'x'.repeat(3000), // a long run: weighs 4x in the budget
    '日本語のテキストと English words が混ざった文章です。 '.repeat(40),
    prose(5000), // over the budget: always sampled
    JSON.stringify({ items: Array.from({ length: 40 }, (_, i) => ({ id: i, name: `item ${i}` })) }),
  ];
}

/** One request: its strings counted against one budget, as countPromptTokens does. */
function countRequest(texts: readonly string[], memo: CountMemo | undefined): { tokens: number[]; budget: CountBudget } {
  const budget = new CountBudget();
  return { tokens: texts.map((t) => countBounded(t, exact, budget, memo)), budget };
}

void test('counts and budgets are the same with and without the memo, over requests that repeat strings', () => {
  const texts = corpus();
  const memo = new CountMemo();
  let seed = 3;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  let hits = 0;
  for (let r = 0; r < 300; r++) {
    // 1-6 strings per request, repeats within a request too (the budget runs out mid-request).
    const request = Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => texts[Math.floor(rnd() * texts.length)] as string);
    hits += request.filter((t) => memo.get(t) !== undefined).length;
    const withMemo = countRequest(request, memo);
    const without = countRequest(request, undefined);
    assert.deepEqual(withMemo.tokens, without.tokens, `request ${r}`);
    assert.deepEqual({ ...withMemo.budget }, { ...without.budget }, `budget of request ${r}`);
  }
  assert.ok(hits > 300, `the memo answered ${hits} times`);
});

void test('a remembered count is the exact count, and text over the budget is never remembered', () => {
  const memo = new CountMemo();
  for (const text of corpus()) {
    countBounded(text, exact, new CountBudget(), memo);
    const packed = memo.get(text);
    if (text.length > EXACT_BUDGET_CHARS) assert.equal(packed, undefined);
    else assert.equal(memoTokens(packed as number), exact(text), text.slice(0, 40));
  }
});

void test('a prompt counts the same the first time and when its messages come back', () => {
  const body = {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'You are a concise assistant that answers questions about distributed systems, in detail.' },
      { role: 'user', content: 'Explain why a reverse proxy adds latency.' },
    ],
  };
  // The cookbook framing: 3 per message and 3 for the reply, over tokens counted without the memo.
  const expected = 3 + body.messages.reduce((sum, m) => sum + 3 + encodeText(m.role).length + encodeText(m.content).length, 0);
  const first = countPromptTokens(JSON.parse(JSON.stringify(body)), 'chat');
  const again = countPromptTokens(JSON.parse(JSON.stringify(body)), 'chat');
  assert.equal(first, expected);
  assert.equal(again, expected);
});

void test('the memo keeps within its entry and character bounds, dropping the least recently used', () => {
  const memo = new CountMemo(3, 100);
  memo.set('a', 1, 1);
  memo.set('b', 1, 1);
  memo.set('c', 1, 1);
  memo.get('a'); // now the most recently used
  memo.set('d', 1, 1);
  assert.equal(memo.size, 3);
  assert.equal(memo.get('b'), undefined, 'the least recently used went first');
  assert.notEqual(memo.get('a'), undefined);
  memo.set('x'.repeat(90), 20, 90);
  assert.ok(memo.chars <= 100, `${memo.chars} characters kept`);
  assert.notEqual(memo.get('x'.repeat(90)), undefined);
  memo.set('y'.repeat(101), 20, 101);
  assert.equal(memo.get('y'.repeat(101)), undefined, 'a string larger than the whole memo is not kept');
  const big = new CountMemo();
  big.set('z'.repeat(MEMO_MAX_STRING_CHARS + 1), 10, 100);
  assert.equal(big.size, 0);
});

void test('the memo evicts in least-recently-used order, as a Map moved to the back on every hit does', () => {
  const memo = new CountMemo(16, 200);
  const reference = new Map<string, number>();
  let chars = 0;
  let seed = 5;
  const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  for (let i = 0; i < 5000; i++) {
    const text = `s${rnd(40)}`.padEnd(2 + rnd(30), '.');
    if (rnd(2) === 0) {
      const expected = reference.get(text);
      if (expected !== undefined) {
        reference.delete(text);
        reference.set(text, expected);
      }
      assert.equal(memo.get(text) === undefined ? undefined : memoTokens(memo.get(text) as number), expected === undefined ? undefined : memoTokens(expected));
    } else if (!reference.has(text)) {
      memo.set(text, i, 1);
      reference.set(text, memo.get(text) as number);
      chars += text.length;
      for (const oldest of reference.keys()) {
        if (reference.size <= 16 && chars <= 200) break;
        reference.delete(oldest);
        chars -= oldest.length;
      }
    }
    assert.equal(memo.size, reference.size);
  }
});
