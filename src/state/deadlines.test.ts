/**
 * Command deadlines against a real, private redis-server: a reply that arrived while the event
 * loop was busy for longer than the timeout is a reply, not a timeout (a gateway at saturation);
 * a Redis that does not answer is still a timeout within the budget (RELIABILITY A5).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, type RunningRedis } from '../../test/helpers/redis.ts';
import { RedisLimitStore, type RedisLimitStoreEvent } from './redis-limit-store.ts';
import type { CounterRequest } from './limit-store.ts';

let redis: RunningRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.stop());

const counter: CounterRequest = { key: 'rpm:lag', window: { kind: 'sliding', windowMs: 60_000, bucketMs: 1000 }, limit: 1_000_000, cost: 1 };

/** Blocks the event loop, as a burst of request handling does on a saturated gateway. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

test('a reply that arrived while the event loop was blocked beyond the timeout is a reply, not a timeout', async (t) => {
  const events: RedisLimitStoreEvent[] = [];
  const store = new RedisLimitStore({ url: redis.url, failMode: 'closed', commandTimeoutMs: 20, onEvent: (e) => events.push(e) });
  t.after(() => store.close());
  assert.equal(await store.ready(5000), true);
  await store.reserve([counter], Date.now()); // loads the script
  for (let i = 0; i < 20; i++) {
    const pending = store.reserve([counter], Date.now());
    busy(60); // Redis answers in well under a millisecond; the reply waits in the socket
    const r = await pending;
    assert.equal(r.admitted, true);
  }
  assert.deepEqual(events.filter((e) => e.type !== 'script-reload'), [], 'no timeout, no breaker');
});

test('a frozen Redis still times out within the budget, and the breaker opens after 5', async (t) => {
  const events: RedisLimitStoreEvent[] = [];
  const store = new RedisLimitStore({ url: redis.url, failMode: 'closed', commandTimeoutMs: 20, onEvent: (e) => events.push(e) });
  t.after(async () => {
    redis.resume();
    await store.close();
  });
  assert.equal(await store.ready(5000), true);
  await store.reserve([counter], Date.now());
  redis.pause();
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await assert.rejects(store.reserve([counter], Date.now()), { code: 'GW_ERR_STATE_UNAVAILABLE' });
    const ms = performance.now() - t0;
    // 20 ms plus one turn of an idle loop; the bound is loose for a slow CI machine.
    assert.ok(ms >= 19 && ms < 250, `timed out after ${ms.toFixed(1)} ms`);
  }
  assert.ok(events.some((e) => e.type === 'breaker-open'));
  const t0 = performance.now();
  await assert.rejects(store.reserve([counter], Date.now()), { code: 'GW_ERR_STATE_UNAVAILABLE' });
  assert.ok(performance.now() - t0 < 5, 'breaker open: no call, no wait');
});
