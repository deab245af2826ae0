import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unitVector, VectorIndex } from './vector-index.ts';
import { SemanticCache } from './semantic-store.ts';

function randomUnit(d: number, seed: number): Float32Array {
  let s = seed * 2654435761 >>> 0 || 1;
  const v = new Float32Array(d);
  for (let i = 0; i < d; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    v[i] = s / 4294967296 - 0.5;
  }
  return unitVector(v);
}

test('a partition past the exact-scan limit moves to HNSW and still finds stored vectors, and removed ones are gone', () => {
  const index = new VectorIndex({ dimensions: 64, exactLimit: 50 });
  for (let i = 0; i < 200; i++) index.add(i, randomUnit(64, i + 1));
  assert.equal(index.size, 200);
  for (const id of [0, 49, 50, 199]) {
    const found = index.nearest(randomUnit(64, id + 1));
    assert.equal(found?.id, id);
    assert.ok(Math.abs((found?.similarity ?? 0) - 1) < 0.01, 'bf16 similarity within 1e-2 of exact');
  }
  index.remove(7);
  assert.notEqual(index.nearest(randomUnit(64, 8))?.id, 7);
  assert.equal(index.size, 199);
});

test('the exact scan returns the most similar vector and its cosine similarity', () => {
  const index = new VectorIndex({ dimensions: 3 });
  index.add(1, unitVector([1, 0, 0]));
  index.add(2, unitVector([0, 1, 0]));
  const found = index.nearest(unitVector([0.9, 0.1, 0]));
  assert.equal(found?.id, 1);
  assert.ok(Math.abs((found?.similarity ?? 0) - 0.9939) < 1e-3);
  assert.equal(index.nearest(new Float32Array(4)), undefined, 'another vector size never matches');
});

test('the semantic cache is bounded by bytes and drops a partition whose vector size changed', () => {
  const answer = { body: Buffer.alloc(1000) };
  const cache = new SemanticCache({ maxEntries: 100, maxBytes: 4000, clock: () => 0 });
  for (let i = 0; i < 5; i++) cache.store({ partition: 'p', vector: randomUnit(8, i + 1), answer, expiresAt: 1000 });
  assert.ok(cache.bytes <= 4000);
  assert.equal(cache.size, 3, 'about 1.3 KB each: three fit');
  assert.equal(cache.nearest('p', randomUnit(8, 1))?.similarity === 1, false, 'the oldest was evicted');
  assert.ok((cache.nearest('p', randomUnit(8, 5))?.similarity ?? 0) > 0.999);
  cache.store({ partition: 'p', vector: randomUnit(16, 9), answer, expiresAt: 1000 });
  assert.equal(cache.size, 1);
  assert.equal(cache.nearest('other', randomUnit(16, 9)), undefined, 'partitions never mix');
});

test('in HNSW mode a stored entry is found at once, before its graph insert, and the queue drains on later turns', async () => {
  const index = new VectorIndex({ dimensions: 32, exactLimit: 20 });
  for (let i = 0; i < 21; i++) index.add(i, randomUnit(32, i + 1));
  assert.ok(index.queued > 0, 'the rows moved to the insert queue, not into the graph in one go');
  for (let i = 21; i < 40; i++) index.add(i, randomUnit(32, i + 1));
  assert.equal(index.size, 40);
  for (const id of [0, 20, 39]) assert.equal(index.nearest(randomUnit(32, id + 1))?.id, id, `entry ${id} found while queued`);
  index.remove(39);
  assert.notEqual(index.nearest(randomUnit(32, 40))?.id, 39, 'a queued entry can be removed');
  while (index.queued > 0) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(index.size, 39);
  for (const id of [0, 20, 38]) assert.equal(index.nearest(randomUnit(32, id + 1))?.id, id, `entry ${id} found in the graph`);
});

test('the insert queue is bounded: past the exact-scan limit the oldest queued entries go into the graph at once', () => {
  const index = new VectorIndex({ dimensions: 16, exactLimit: 10 });
  for (let i = 0; i < 40; i++) index.add(i, randomUnit(16, i + 1));
  assert.ok(index.queued <= 10, `at most 10 queued, got ${index.queued}`);
  assert.equal(index.size, 40);
  assert.equal(index.nearest(randomUnit(16, 1))?.id, 0);
});
