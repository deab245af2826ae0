import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryLimitStore } from './memory-limit-store.ts';

const sliding = { kind: 'sliding', windowMs: 60_000, bucketMs: 1000 } as const;

test('reserve is all or nothing across counters', async () => {
  const s = new MemoryLimitStore();
  const a = { key: 'a', window: sliding, limit: 10, cost: 6 };
  const b = { key: 'b', window: sliding, limit: 5, cost: 6 };
  const r = await s.reserve([a, b], 0);
  assert.equal(r.admitted, false);
  assert.equal(r.refusedBy, 1);
  const again = await s.reserve([a], 0);
  assert.equal(again.admitted, true, 'the refused batch reserved nothing on a');
  assert.equal(again.counters[0]?.used, 6);
});

test('settle replaces the reservation by the actual cost, and the sliding window forgets after 60 s', async () => {
  const s = new MemoryLimitStore();
  const c = { key: 'k', window: sliding, limit: 100, cost: 80 };
  const r = await s.reserve([c], 1000);
  await s.settle(r.handle!, [10], 2000);
  const next = await s.reserve([{ ...c, cost: 90 }], 3000);
  assert.equal(next.admitted, true);
  assert.equal(next.counters[0]?.used, 100);
  const refused = await s.reserve([{ ...c, cost: 1 }], 4000);
  assert.equal(refused.admitted, false);
  // The 10 from t=1 s expires first: 1 token fits once that bucket leaves the window.
  assert.equal(refused.counters[0]?.retryAfterMs, 58_000);
  const later = await s.reserve([{ ...c, cost: 1 }], 61_001);
  assert.equal(later.admitted, true);
});

test('the store stays bounded under a flood of distinct keys', async () => {
  const s = new MemoryLimitStore({ maxCounters: 100 });
  for (let i = 0; i < 1000; i++) await s.reserve([{ key: `k${i}`, window: sliding, limit: 1, cost: 1 }], i);
  assert.ok(s.size <= 100);
});
