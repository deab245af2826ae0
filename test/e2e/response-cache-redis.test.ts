/**
 * The exact response cache (`cache-lookup` / `cache-store`) shared by replicas on one private
 * Redis, as the semantic cache is: a response stored on replica A is a hit on replica B without
 * B calling the origin, a replica started later starts warm, and Redis going away fails nothing.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { startRedis } from '../helpers/redis.ts';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';

let served = 0;
const origin = createServer((req, res) => {
  served++;
  res.writeHead(200, { 'content-type': 'application/json', 'x-origin': 'yes' });
  res.end(JSON.stringify({ served, url: req.url }));
});
origin.listen(0, '127.0.0.1');
await new Promise((r) => origin.once('listening', r));
after(() => origin.close());
const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;

const POLICY = `<policies>
  <inbound><base /><cache-lookup vary-by-developer="false" vary-by-developer-groups="false"><vary-by-query-parameter>id</vary-by-query-parameter></cache-lookup></inbound>
  <outbound><base /><cache-store duration="60" /></outbound>
</policies>`;

function replica(redisUrl: string, prefix: string, logLevel = 'warn'): Promise<TestGateway> {
  return startTestGateway({
    extraBackends: { items: { url: originUrl } },
    extraApis: { items: { path: 'items', type: 'http', backend: 'items', policies: POLICY } },
    config: { state: { store: 'redis', url: redisUrl, keyPrefix: prefix } },
    logLevel,
  });
}

async function get(t: TestGateway, path: string): Promise<{ cache: string | null; body: { served: number }; origin: string | null }> {
  const res = await fetch(`${t.url}/items${path}`, { headers: { 'api-key': TEST_KEY } });
  assert.equal(res.status, 200);
  return { cache: res.headers.get('x-tollgate-cache'), body: (await res.json()) as { served: number }, origin: res.headers.get('x-origin') };
}

async function within(ms: number, check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    assert.ok(Date.now() < deadline, what);
    await new Promise((r) => setTimeout(r, 50));
  }
}

void test('a response stored on replica A is a hit on replica B without the origin, and a replica started later starts warm', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const prefix = `respcache-${process.pid}:`;
  const a = await replica(redis.url, prefix);
  t.after(() => a.close());
  const b = await replica(redis.url, prefix);
  t.after(() => b.close());

  const stored = await get(a, '/report?id=7');
  assert.equal(stored.cache, 'miss');
  await within(5000, () => b.gw.responseCaches.exact.size === 1, 'replica B did not receive the entry');
  const before = served;
  const shared = await get(b, '/report?id=7');
  assert.equal(shared.cache, 'hit');
  assert.deepEqual(shared.body, stored.body, 'the answer stored on A, byte for byte');
  assert.equal(shared.origin, 'yes', 'with its stored headers');
  assert.equal(served, before, 'replica B never called the origin');
  assert.equal((await get(b, '/report?id=8')).cache, 'miss', 'the key still decides: another id is another entry');

  const c = await replica(redis.url, prefix);
  t.after(() => c.close());
  await within(5000, () => c.gw.responseCaches.exact.size >= 1, 'a new replica reads the shared entries');
  assert.equal((await get(c, '/report?id=7')).cache, 'hit');
});

/** Log lines of the cache sharing's outage log with this message. */
function outageLines(t: TestGateway, msg: string): number {
  return t.logs.filter((l) => l.includes('"stateEvent":"cache-sharing"') && l.includes(msg)).length;
}

/** Waits until the stream holds `n` entries (the store's XADD answered: no reply is still on its way). */
async function streamHas(redisUrl: string, prefix: string, n: number): Promise<void> {
  const client = new Redis(redisUrl);
  try {
    const deadline = Date.now() + 5000;
    while ((await client.xlen(`{${prefix}}cache:entries`)) < n) {
      assert.ok(Date.now() < deadline, 'the store never reached the stream');
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    client.disconnect();
  }
}

void test('Redis down: responses are served, local entries still hit, nothing fails, and the outage is logged once, then its recovery', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const prefix = `respcache2-${process.pid}:`;
  const a = await replica(redis.url, prefix, 'info');
  t.after(() => a.close());

  assert.equal((await get(a, '/down?id=1')).cache, 'miss');
  await streamHas(redis.url, prefix, 1);
  redis.kill('SIGKILL');
  assert.equal((await get(a, '/down?id=1')).cache, 'hit', 'the local copy still answers');
  const failing = (): number => outageLines(a, 'cache sharing through Redis failing');
  assert.equal((await get(a, '/down?id=2')).cache, 'miss', 'a store while Redis is down fails nothing');
  await within(5000, () => failing() >= 1, 'the outage was not logged');
  // A reply already on its way when Redis died can land after the first failure (one recovery
  // and one more warning); once a store has failed every call fails and nothing more is logged.
  await new Promise((r) => setTimeout(r, 300));
  const logged = failing();
  assert.ok(logged <= 2, `${logged} warnings`);
  for (let id = 3; id < 7; id++) {
    assert.equal((await get(a, `/down?id=${id}`)).cache, 'miss', 'a store while Redis is down fails nothing');
    assert.equal((await get(a, `/down?id=${id}`)).cache, 'hit');
  }
  await new Promise((r) => setTimeout(r, 1200));
  assert.equal(failing(), logged, 'four failed stores and the tail\'s failed reads (every 500 ms): nothing more logged');
  await redis.restart();
  await within(10_000, () => outageLines(a, 'cache sharing through Redis recovered') === logged, 'the recovery was not logged');
  assert.equal(failing(), logged);
});

void test('Redis too slow (stopped): a store times out and stays local, the request is answered, and the outage is logged', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const prefix = `respcache3-${process.pid}:`;
  const a = await replica(redis.url, prefix, 'info');
  t.after(() => a.close());
  assert.equal((await get(a, '/slow?id=1')).cache, 'miss');
  await streamHas(redis.url, prefix, 1);
  redis.pause();
  t.after(() => redis.resume());
  const started = Date.now();
  assert.equal((await get(a, '/slow?id=2')).cache, 'miss');
  assert.ok(Date.now() - started < 1000, 'the answer never waits on the store');
  assert.equal((await get(a, '/slow?id=2')).cache, 'hit', 'stored locally');
  await within(5000, () => a.logs.some((l) => l.includes('"stateEvent":"cache-sharing"') && /timed out/.test(l)), 'the timed-out store was not reported');
  const logged = outageLines(a, 'cache sharing through Redis failing');
  redis.resume();
  await within(10_000, () => outageLines(a, 'cache sharing through Redis recovered') === logged, 'the recovery was not logged');
});
