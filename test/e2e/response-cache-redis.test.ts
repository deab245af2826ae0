/**
 * The exact response cache (`cache-lookup` / `cache-store`) shared by replicas on one private
 * Redis, as the semantic cache is: a response stored on replica A is a hit on replica B without
 * B calling the origin, a replica started later starts warm, and Redis going away fails nothing.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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

function replica(redisUrl: string, prefix: string): Promise<TestGateway> {
  return startTestGateway({
    extraBackends: { items: { url: originUrl } },
    extraApis: { items: { path: 'items', type: 'http', backend: 'items', policies: POLICY } },
    config: { state: { store: 'redis', url: redisUrl, keyPrefix: prefix } },
    logLevel: 'warn',
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

void test('Redis down: responses are served, local entries still hit, and nothing fails', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const prefix = `respcache2-${process.pid}:`;
  const a = await replica(redis.url, prefix);
  t.after(() => a.close());

  assert.equal((await get(a, '/down?id=1')).cache, 'miss');
  redis.kill('SIGKILL');
  assert.equal((await get(a, '/down?id=1')).cache, 'hit', 'the local copy still answers');
  assert.equal((await get(a, '/down?id=2')).cache, 'miss', 'a store while Redis is down fails nothing');
  assert.equal((await get(a, '/down?id=2')).cache, 'hit');
});
