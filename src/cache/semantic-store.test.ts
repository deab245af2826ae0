import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SemanticCache, type StoredEntry } from './semantic-store.ts';
import { unitVector } from './vector-index.ts';

const NOW = 1_000_000;
const vec = (...xs: number[]): Float32Array => unitVector(xs);
const entry = (partition: string, vector: Float32Array, text: string): StoredEntry => ({ partition, vector, answer: { body: Buffer.from(text) }, expiresAt: NOW + 60_000 });
const cache = (): SemanticCache => new SemanticCache({ maxEntries: 100, maxBytes: 1 << 20, clock: () => NOW });

test('the same prompt stored again replaces its entry: one entry, the newer answer', async () => {
  const c = cache();
  for (const n of [1, 2, 3]) c.store(entry('p', vec(1, 2, 3), `answer ${n}`));
  assert.equal(c.size, 1);
  assert.equal((await c.nearest('p', vec(1, 2, 3)))?.answer.body.toString(), 'answer 3');
});

test('the same prompt in another partition is another entry (no reach across partitions)', async () => {
  const c = cache();
  c.store(entry('tenant-a', vec(1, 2, 3), 'a'));
  c.store(entry('tenant-b', vec(1, 2, 3), 'b'));
  assert.equal(c.size, 2);
  assert.equal((await c.nearest('tenant-a', vec(1, 2, 3)))?.answer.body.toString(), 'a');
  assert.equal((await c.nearest('tenant-b', vec(1, 2, 3)))?.answer.body.toString(), 'b');
});

test('close but different prompts (similarity below 0.9999) are both kept', async () => {
  const c = cache();
  c.store(entry('p', vec(1, 0, 0), 'x'));
  c.store(entry('p', vec(1, 0.02, 0), 'y')); // similarity 0.9998
  assert.equal(c.size, 2);
  assert.equal((await c.nearest('p', vec(1, 0.02, 0)))?.answer.body.toString(), 'y');
  assert.equal((await c.nearest('p', vec(1, 0, 0)))?.answer.body.toString(), 'x');
});

test('replacing the only entry of a partition keeps the partition searchable', async () => {
  const c = cache();
  c.store(entry('p', vec(0, 1), 'old'));
  c.store(entry('p', vec(0, 1), 'new'));
  assert.equal((await c.nearest('p', vec(0, 1)))?.answer.body.toString(), 'new');
  assert.equal(c.bytes > 0, true);
});
