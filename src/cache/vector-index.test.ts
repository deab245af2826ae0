import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unitVector, VectorIndex } from './vector-index.ts';
import { SemanticCache } from './semantic-store.ts';
import { hnswThread } from './hnsw-thread.ts';
import { randomUnit, usearchLoadedHere } from './test-support.ts';


test('a partition past the exact-scan limit moves to HNSW and still finds stored vectors, and removed ones are gone', async () => {
  const index = new VectorIndex({ dimensions: 64, exactLimit: 50 });
  try {
    for (let i = 0; i < 200; i++) index.add(i, randomUnit(64, i + 1));
    assert.equal(index.size, 200);
    await index.settled();
    for (const id of [0, 49, 50, 199]) {
      const found = await index.nearest(randomUnit(64, id + 1));
      assert.equal(found?.id, id);
      assert.ok(Math.abs((found?.similarity ?? 0) - 1) < 0.01, 'bf16 similarity within 1e-2 of exact');
    }
    index.remove(7);
    assert.notEqual((await index.nearest(randomUnit(64, 8)))?.id, 7);
    assert.equal(index.size, 199);
  } finally {
    index.close();
  }
});

test('the exact scan returns the most similar vector and its cosine similarity, synchronously', () => {
  const index = new VectorIndex({ dimensions: 3 });
  index.add(1, unitVector([1, 0, 0]));
  index.add(2, unitVector([0, 1, 0]));
  const found = index.nearest(unitVector([0.9, 0.1, 0]));
  assert.ok(!(found instanceof Promise), 'a small partition answers without a promise');
  assert.equal(found?.id, 1);
  assert.ok(Math.abs((found?.similarity ?? 0) - 0.9939) < 1e-3);
  assert.equal(index.nearest(new Float32Array(4)), undefined, 'another vector size never matches');
});

test('the semantic cache is bounded by bytes and drops a partition whose vector size changed', async () => {
  const answer = { body: Buffer.alloc(1000) };
  const cache = new SemanticCache({ maxEntries: 100, maxBytes: 4000, clock: () => 0 });
  for (let i = 0; i < 5; i++) cache.store({ partition: 'p', vector: randomUnit(8, i + 1), answer, expiresAt: 1000 });
  assert.ok(cache.bytes <= 4000);
  assert.equal(cache.size, 3, 'about 1.3 KB each: three fit');
  assert.equal((await cache.nearest('p', randomUnit(8, 1)))?.similarity === 1, false, 'the oldest was evicted');
  assert.ok(((await cache.nearest('p', randomUnit(8, 5)))?.similarity ?? 0) > 0.999);
  cache.store({ partition: 'p', vector: randomUnit(16, 9), answer, expiresAt: 1000 });
  assert.equal(cache.size, 1);
  assert.equal(await cache.nearest('other', randomUnit(16, 9)), undefined, 'partitions never mix');
});

test('in HNSW mode a stored entry is found at once, before the HNSW thread inserted it, and is in the graph later', async () => {
  const index = new VectorIndex({ dimensions: 32, exactLimit: 20 });
  try {
    for (let i = 0; i < 21; i++) index.add(i, randomUnit(32, i + 1));
    assert.equal(index.exact, false);
    for (let i = 21; i < 40; i++) index.add(i, randomUnit(32, i + 1));
    assert.equal(index.size, 40);
    const first = index.nearest(randomUnit(32, 40));
    assert.ok(first instanceof Promise, 'an HNSW partition is searched off the event loop');
    assert.equal((await first)?.id, 39, 'entry 39 found while queued');
    index.remove(39);
    assert.notEqual((await index.nearest(randomUnit(32, 40)))?.id, 39, 'a queued entry can be removed');
    await index.settled();
    assert.equal(index.size, 39);
    for (const id of [0, 20, 38]) assert.equal((await index.nearest(randomUnit(32, id + 1)))?.id, id, `entry ${id} found in the graph`);
  } finally {
    index.close();
  }
});

test('HNSW partitions are searched in a worker thread: the main thread never loads usearch, and the worker ends with the last partition', async () => {
  const cache = new SemanticCache({ maxEntries: 1000, maxBytes: 64 << 20, exactLimit: 8 });
  const answer = (i: number): { body: Buffer } => ({ body: Buffer.from(`answer ${i}`) });
  const expiresAt = Date.now() + 60_000;
  for (let i = 0; i < 300; i++) cache.store({ partition: 'p', vector: randomUnit(1536, i + 1), answer: answer(i), expiresAt });
  for (const i of [0, 7, 8, 150, 299]) {
    const hit = await cache.nearest('p', randomUnit(1536, i + 1));
    assert.equal(hit?.answer.body.toString(), `answer ${i}`);
    assert.ok((hit?.similarity ?? 0) > 0.99);
  }
  assert.deepEqual(usearchLoadedHere(), [], 'usearch is loaded in the HNSW thread only');
  assert.equal(hnswThread.running, true);
  cache.clear();
  assert.equal(hnswThread.running, false, 'no HNSW partition left: the thread is ended');
});

test('the HNSW thread dying loses its partitions: waiting lookups are misses, the entries are dropped, and new stores work', async () => {
  const cache = new SemanticCache({ maxEntries: 1000, maxBytes: 64 << 20, exactLimit: 8 });
  const expiresAt = Date.now() + 60_000;
  try {
    for (let i = 0; i < 100; i++) cache.store({ partition: 'p', vector: randomUnit(256, i + 1), answer: { body: Buffer.from(`a${i}`) }, expiresAt });
    cache.store({ partition: 'small', vector: randomUnit(256, 5000), answer: { body: Buffer.from('small') }, expiresAt });
    assert.equal((await cache.nearest('p', randomUnit(256, 51)))?.answer.body.toString(), 'a50');
    const starts = hnswThread.starts;
    const inFlight = cache.nearest('p', randomUnit(256, 61));
    await hnswThread.killForTests();
    assert.equal(await inFlight, undefined, 'a lookup waiting on the dead thread is a miss');
    assert.equal(await cache.nearest('p', randomUnit(256, 1)), undefined, 'the lost partition is empty');
    assert.equal(cache.size, 1, 'its entries were dropped; the exact partition kept its own');
    assert.equal((await cache.nearest('small', randomUnit(256, 5000)))?.answer.body.toString(), 'small');
    assert.equal(hnswThread.running, false);
    // Stored again, the partition grows past the limit and a new thread takes it.
    for (let i = 0; i < 20; i++) cache.store({ partition: 'p', vector: randomUnit(256, 2000 + i), answer: { body: Buffer.from(`b${i}`) }, expiresAt });
    assert.equal(hnswThread.starts, starts + 1, 'a new thread was started');
    assert.equal((await cache.nearest('p', randomUnit(256, 2010)))?.answer.body.toString(), 'b10');
  } finally {
    cache.clear();
  }
});
