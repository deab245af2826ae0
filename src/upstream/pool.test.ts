import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendSchema } from '../config/backend-schema.ts';
import type { BackendConfig } from '../config/schema.ts';
import { Backend } from './backend.ts';
import { HealthRegistry } from './health.ts';
import { Attempt, BackendPool, retryAfterMs } from './pool.ts';

const BREAKER = { rules: [{ failureCondition: { count: 1, interval: 'PT1M', statusCodeRanges: [{ min: 429, max: 429 }] }, tripDuration: 'PT1M', acceptRetryAfter: true }] };

function makePool(members: Array<[id: string, priority: number, weight: number]>, extra: Record<string, unknown> = {}): BackendPool {
  const registry = new HealthRegistry();
  const list = members.map(([id, priority, weight], i) => {
    const cfg: BackendConfig = backendSchema.parse({ url: `http://127.0.0.1:${9001 + i}/openai`, circuitBreaker: BREAKER, ...extra });
    return { backend: new Backend(id, cfg, registry.get(id, cfg)), priority, weight };
  });
  return new BackendPool('pool', true, list);
}

function pick(pool: BackendPool, now: number, avoid: Set<string> | null = null): string {
  const a = pool.select(now, avoid, () => now);
  assert.ok(a instanceof Attempt, `expected a member, got wait ${typeof a === "number" ? a : "?"}`);
  a.answered(200, {});
  a.succeeded();
  return a.backend.id;
}

function tally(pool: BackendPool, n: number, now = 0): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const id = pick(pool, now);
    counts[id] = (counts[id] ?? 0) + 1;
  }
  return counts;
}

void test('the highest priority group (lowest number) takes all traffic while it is available', () => {
  const pool = makePool([['ptu', 1, 1], ['west', 2, 3], ['north', 2, 1]]);
  assert.deepEqual(tally(pool, 100), { ptu: 100 });
});

void test('weights split traffic exactly within a group: 3:1 over every 4 requests', () => {
  const pool = makePool([['west', 2, 3], ['north', 2, 1]]);
  assert.deepEqual(tally(pool, 400), { west: 300, north: 100 });
  const even = makePool([['a', 1, 1], ['b', 1, 1], ['c', 1, 1]]);
  assert.deepEqual(tally(even, 9), { a: 3, b: 3, c: 3 });
  assert.deepEqual([pick(even, 0), pick(even, 0), pick(even, 0)].sort(), ['a', 'b', 'c'], 'equal weights rotate');
});

void test('a tripped member drops out until its trip ends; the lower group takes over, then gives back', () => {
  const pool = makePool([['ptu', 1, 1], ['west', 2, 3], ['north', 2, 1]]);
  const a = pool.select(0, null, () => 0) as Attempt;
  a.answered(429, { 'retry-after': '2' });
  assert.deepEqual(tally(pool, 40, 1000), { west: 30, north: 10 });
  // After Retry-After the PTU is half-open: one probe, which succeeds and closes it.
  assert.equal(pick(pool, 2000), 'ptu');
  assert.deepEqual(tally(pool, 10, 2001), { ptu: 10 });
});

void test('every member tripped: no attempt, and the wait until the first one returns', () => {
  const pool = makePool([['a', 1, 1], ['b', 2, 1]]);
  (pool.select(0, null, () => 0) as Attempt).answered(429, { 'retry-after': '5' });
  (pool.select(0, null, () => 0) as Attempt).answered(429, { 'retry-after': '3' });
  assert.equal(pool.select(100, null, () => 100), 2900);
});

void test('a member the request already failed on is skipped while another is available, used when none is', () => {
  const pool = makePool([['a', 1, 1], ['b', 2, 1]]);
  assert.equal(pick(pool, 0, new Set(['a'])), 'b');
  assert.equal(pick(pool, 0, new Set(['a', 'b'])), 'a');
});

void test('weight 0 drains a member: it gets no traffic', () => {
  const pool = makePool([['a', 1, 0], ['b', 1, 1]]);
  assert.deepEqual(tally(pool, 10), { b: 10 });
});

void test('rate-limit headers below the floor skip a member until its reset, unless nothing else is left', () => {
  const pool = makePool([['a', 1, 1], ['b', 2, 1]], { rateLimitHeaders: { minRemainingTokens: 1000 } });
  const first = pool.select(0, null, () => 0) as Attempt;
  first.answered(200, { 'x-ratelimit-remaining-tokens': '400', 'x-ratelimit-reset-tokens': '1.5s' });
  first.succeeded();
  assert.equal(pick(pool, 100), 'b');
  assert.equal(pick(pool, 1500), 'a', 'back after the reset time');
});

void test('retryAfterMs reads retry-after-ms, seconds and HTTP dates', () => {
  assert.equal(retryAfterMs({ 'retry-after-ms': '1500', 'retry-after': '2' }, 0), 1500);
  assert.equal(retryAfterMs({ 'retry-after': '7' }, 0), 7000);
  assert.equal(retryAfterMs({ 'retry-after': new Date(10_000).toUTCString() }, 4000), 6000);
  assert.equal(retryAfterMs({ 'retry-after': 'soon' }, 0), undefined);
  assert.equal(retryAfterMs({}, 0), undefined);
});
