import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenCache, type FetchedToken } from './token-cache.ts';

const HOUR = 3_600_000;

function harness(): { cache: TokenCache; clock: { now: number }; fetches: Array<{ resolve(t: FetchedToken): void; reject(e: Error): void }>; fetch: () => Promise<FetchedToken> } {
  const clock = { now: 1_000_000 };
  const fetches: Array<{ resolve(t: FetchedToken): void; reject(e: Error): void }> = [];
  const cache = new TokenCache({ clock: () => clock.now, failureBackoffMs: 2000 });
  const fetch = (): Promise<FetchedToken> => new Promise((resolve, reject) => fetches.push({ resolve, reject }));
  return { cache, clock, fetches, fetch };
}

test('concurrent requests for a missing token share one fetch; later ones are served from memory', async () => {
  const { cache, clock, fetches, fetch } = harness();
  const waiting = Array.from({ length: 100 }, () => cache.get('k', fetch));
  assert.equal(fetches.length, 1);
  fetches[0]?.resolve({ token: 't1', expiresAt: clock.now + HOUR });
  assert.deepEqual(new Set(await Promise.all(waiting)), new Set(['t1']));
  clock.now += 10 * 60_000;
  assert.equal(await cache.get('k', fetch), 't1');
  assert.equal(fetches.length, 1);
  assert.equal(cache.fetches, 1);
});

test('past half its lifetime a token is refreshed once in the background while the old one is still served; an expired one is never served', async () => {
  const { cache, clock, fetches, fetch } = harness();
  const first = cache.get('k', fetch);
  fetches[0]?.resolve({ token: 't1', expiresAt: clock.now + HOUR });
  await first;
  clock.now += 31 * 60_000;
  const during = await Promise.all(Array.from({ length: 50 }, () => cache.get('k', fetch)));
  assert.deepEqual(new Set(during), new Set(['t1']), 'nobody waits for the refresh');
  assert.equal(fetches.length, 2, 'one refresh for fifty requests');
  fetches[1]?.resolve({ token: 't2', expiresAt: clock.now + HOUR });
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(await cache.get('k', fetch), 't2');
  // Past expiry (minus the margin) without a refresh: requests wait for a new token.
  clock.now += HOUR;
  const late = cache.get('k', fetch);
  assert.equal(fetches.length, 3);
  fetches[2]?.resolve({ token: 't3', expiresAt: clock.now + HOUR });
  assert.equal(await late, 't3');
});

test('a failed fetch is answered from memory for the back-off, then tried again; a failed background refresh keeps the old token', async () => {
  const { cache, clock, fetches, fetch } = harness();
  const a = cache.get('k', fetch);
  fetches[0]?.reject(new Error('endpoint down'));
  await assert.rejects(a, /endpoint down/);
  await assert.rejects(cache.get('k', fetch), /endpoint down/);
  assert.equal(fetches.length, 1, 'no second call during the back-off');
  clock.now += 2001;
  const b = cache.get('k', fetch);
  assert.equal(fetches.length, 2);
  fetches[1]?.resolve({ token: 't1', expiresAt: clock.now + 60_000 });
  assert.equal(await b, 't1');
  clock.now += 31_000;
  assert.equal(await cache.get('k', fetch), 't1');
  assert.equal(fetches.length, 3, 'background refresh started');
  fetches[2]?.reject(new Error('still down'));
  await new Promise((r) => setImmediate(r));
  assert.equal(await cache.get('k', fetch), 't1', 'the old token, still valid, is served');
  assert.equal(cache.failures, 2);
});

test('the number of cached keys is bounded', async () => {
  const clock = { now: 0 };
  const cache = new TokenCache({ clock: () => clock.now, maxEntries: 3 });
  let n = 0;
  const fetch = (): Promise<FetchedToken> => Promise.resolve({ token: `t${++n}`, expiresAt: HOUR });
  for (const k of ['a', 'b', 'c', 'd']) await cache.get(k, fetch);
  assert.equal(await cache.get('a', fetch), 't5', 'the oldest key was evicted and fetched again');
  assert.equal(await cache.get('d', fetch), 't4');
});
