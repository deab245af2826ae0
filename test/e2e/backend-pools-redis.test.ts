/**
 * Two replicas sharing Redis share their open circuits: the PTU one replica trips is skipped by
 * the other too, a probe that succeeds reopens it for both, and Redis going away leaves each
 * replica with its own breakers (fail-open).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { burst, RETRY_FAILOVER, startPool, type PoolHarness } from '../helpers/pool.ts';
import { startRedis } from '../helpers/redis.ts';
import { waitFor } from '../helpers/gateway.ts';

const ptuOn = async (h: PoolHarness): Promise<string> => (await h.health()).state;

void test('a circuit tripped on one replica opens on the other through Redis, and closes for both after a good probe', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  let now = Date.now();
  const clock = (): number => now;
  const state = { store: 'redis', url: redis.url, keyPrefix: `pools-${process.pid}:` };
  const a = await startPool({ clock, state, backendSection: RETRY_FAILOVER });
  t.after(() => a.close());
  const b = await startPool({ clock, state, backendSection: RETRY_FAILOVER, shareSims: a });
  t.after(() => b.close());

  a.sims['openai-ptu-eastus'].setFault('429', { retryAfterSeconds: 30 });
  assert.equal((await a.chat()).status, 200);
  assert.equal(await ptuOn(a), 'open');
  // Replica b never saw the 429; it learns of the trip from Redis within a poll (500 ms).
  const deadline = Date.now() + 3000;
  while ((await ptuOn(b)) !== 'open') {
    assert.ok(Date.now() < deadline, 'replica b did not see the shared trip');
    await new Promise((r) => setTimeout(r, 50));
  }
  const trip = (await b.health()).lastTrip;
  assert.equal(trip?.rule, 'shared');
  assert.equal(trip?.reason, 'status 429');
  a.resetCounts();
  await burst(40, 4, () => b.chat());
  assert.equal(a.counts()['openai-ptu-eastus'], 0, 'replica b sends nothing to the PTU while it is open');

  // The PTU recovers; after its Retry-After a probe from replica a closes the circuit.
  a.sims['openai-ptu-eastus'].setFault(null);
  now += 31_000;
  assert.equal((await a.chat()).headers.get('x-sim-name'), 'openai-ptu-eastus');
  assert.equal(await ptuOn(a), 'closed');
  // Replica b, half-open too, probes on its own and closes.
  assert.equal((await b.chat()).headers.get('x-sim-name'), 'openai-ptu-eastus');
  assert.equal(await ptuOn(b), 'closed');
});

void test('Redis down: each replica keeps its own breakers (fail-open), and sharing resumes when Redis returns', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const state = { store: 'redis', url: redis.url, keyPrefix: `pools2-${process.pid}:` };
  const a = await startPool({ state, backendSection: RETRY_FAILOVER });
  t.after(() => a.close());
  const b = await startPool({ state, backendSection: RETRY_FAILOVER, shareSims: a });
  t.after(() => b.close());
  await redis.stop();
  a.sims['openai-ptu-eastus'].setFault('429', { retryAfterSeconds: 60 });
  assert.equal((await a.chat()).status, 200, 'requests are served while Redis is down');
  assert.equal(await ptuOn(a), 'open', 'the local breaker works without Redis');
  assert.equal(await ptuOn(b), 'closed');
  await redis.restart();
  // The trip that could not be written is re-sent; replica b sees it.
  await waitFor(() => a.logs.some((l) => l.includes('circuit-sharing')), 3000, 'the failed write to be logged');
  const deadline = Date.now() + 5000;
  while ((await ptuOn(b)) !== 'open') {
    assert.ok(Date.now() < deadline, 'replica b did not see the trip after Redis returned');
    await new Promise((r) => setTimeout(r, 100));
  }
});
