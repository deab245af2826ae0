import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_EMBED_CHARS, cosineSimilarity, embedText } from './index.ts';

function norm(vector: Float32Array): number {
  let sum = 0;
  for (const value of vector) sum += value * value;
  return Math.sqrt(sum);
}

void test('the same text always embeds to the same vector', () => {
  const a = embedText('Deterministic embeddings make cache tests reproducible.', 256);
  const b = embedText('Deterministic embeddings make cache tests reproducible.', 256);
  assert.deepEqual(a, b);
  assert.equal(a.length, 256);
});

void test('vectors are L2-normalised and contain no NaN', () => {
  for (const text of ['a', 'hello world', 'x'.repeat(10_000), 'Ünïcödé ﬁ ligature', '42']) {
    const vector = embedText(text, 64);
    assert.ok(Math.abs(norm(vector) - 1) < 1e-5, text.slice(0, 20));
    assert.ok(vector.every((value) => Number.isFinite(value)));
  }
});

void test('text without letters or digits embeds to the zero vector, never NaN', () => {
  for (const text of ['', '   ', '?!…---']) {
    const vector = embedText(text, 32);
    assert.ok(vector.every((value) => value === 0), JSON.stringify(text));
  }
  assert.equal(cosineSimilarity(embedText('', 32), embedText('hello', 32)), 0);
});

void test('case, NFKC width variants and punctuation do not change the embedding', () => {
  const plain = embedText('Reset my password', 128);
  assert.deepEqual(embedText('RESET my password!!', 128), plain);
  // Fullwidth letters normalise to ASCII under NFKC.
  assert.deepEqual(embedText('Ｒｅｓｅｔ my password', 128), plain);
});

void test('paraphrases score higher than unrelated texts', () => {
  const query = embedText('How do I reset my password?', 1536);
  const paraphrase = embedText('how can I reset my password', 1536);
  const typo = embedText('how do i resett my pasword', 1536);
  const unrelated = embedText('The weather in Paris is sunny today', 1536);
  const paraphraseScore = cosineSimilarity(query, paraphrase);
  const typoScore = cosineSimilarity(query, typo);
  const unrelatedScore = cosineSimilarity(query, unrelated);
  assert.ok(paraphraseScore > 0.7, `paraphrase ${paraphraseScore}`);
  assert.ok(typoScore > 0.4, `typo ${typoScore}`);
  assert.ok(unrelatedScore < 0.25, `unrelated ${unrelatedScore}`);
  assert.ok(paraphraseScore > typoScore && typoScore > unrelatedScore);
});

void test('only the first MAX_EMBED_CHARS characters are read', () => {
  const head = 'lorem ipsum '.repeat(Math.ceil(MAX_EMBED_CHARS / 12)).slice(0, MAX_EMBED_CHARS);
  assert.deepEqual(embedText(head + ' completely different tail', 64), embedText(head, 64));
});

void test('invalid dimensions are rejected with a RangeError', () => {
  for (const dimensions of [0, -1, 1.5, Number.NaN, 100_000]) {
    assert.throws(() => embedText('x', dimensions), RangeError);
  }
});

void test('cosineSimilarity is 1 for identical vectors and 0 for mismatched lengths', () => {
  const vector = embedText('same words', 48);
  assert.ok(Math.abs(cosineSimilarity(vector, vector) - 1) < 1e-6);
  assert.equal(cosineSimilarity(vector, embedText('same words', 49)), 0);
  assert.equal(cosineSimilarity([1, 0], [-1, 0]), -1);
});
