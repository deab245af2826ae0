import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countTextTokens } from '../tokenizer/index.ts';
import { SIM_VOCABULARY, generateTokens } from './vocabulary.ts';

void test('every vocabulary word with its leading space is exactly one token in o200k and cl100k', () => {
  const offenders = SIM_VOCABULARY.filter(
    (word) => countTextTokens(` ${word}`, 'gpt-4o') !== 1 || countTextTokens(` ${word}`, 'gpt-4') !== 1,
  );
  assert.deepEqual(offenders, []);
  assert.equal(new Set(SIM_VOCABULARY).size, SIM_VOCABULARY.length, 'no duplicates');
  assert.ok(SIM_VOCABULARY.length >= 200);
});

void test('a generated reply of N words is exactly N tokens in both encodings', () => {
  for (let seed = 0; seed < 50; seed++) {
    const count = 1 + ((seed * 37) % 300);
    const text = generateTokens(seed, count).join('');
    assert.equal(countTextTokens(text, 'gpt-4o'), count, `seed ${seed}`);
    assert.equal(countTextTokens(text, 'gpt-4'), count, `seed ${seed}`);
  }
});

void test('the same seed yields the same words; a longer reply extends a shorter one', () => {
  assert.deepEqual(generateTokens(7, 10), generateTokens(7, 10));
  assert.deepEqual(generateTokens(7, 20).slice(0, 10), generateTokens(7, 10));
  assert.notDeepEqual(generateTokens(8, 10), generateTokens(7, 10));
});
