/**
 * RELIABILITY A11 (TTL hygiene) through the gateway, time-compressed: 1,000 counter keys kept busy
 * on short windows. Every Redis key the limit policies write carries a TTL of at most its window
 * plus one second, and when the traffic stops every key is gone within that time, so the key count
 * cannot grow without bound however long a gateway runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startRedis } from '../helpers/redis.ts';
import { startTestGateway, TEST_KEY } from '../helpers/gateway.ts';

const TENANTS = 1000;
const LONGEST_WINDOW_MS = 2000;

void test('1,000 busy counter keys on Redis: every key has a TTL ≤ window + 1 s, and all expire after the traffic stops', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const prefix = `ttl-${process.pid}:`;
  const key = '@(context.Request.Headers.GetValueOrDefault(&quot;x-tenant&quot;, &quot;none&quot;))';
  const gw = await startTestGateway({
    logLevel: 'warn',
    config: { state: { store: 'redis', url: redis.url, keyPrefix: prefix, commandTimeoutMs: 2000 } },
    apiPolicies: `<policies><inbound><base />
      <rate-limit-by-key calls="100000" renewal-period="1" counter-key="${key}" />
      <quota-by-key calls="100000" bandwidth="100000" renewal-period="2" counter-key="${key}" />
    </inbound></policies>`,
  });
  t.after(() => gw.close());
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  t.after(() => client.disconnect());

  const keys = async (): Promise<string[]> => {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', `{${prefix}}*`, 'COUNT', 1000);
      cursor = next;
      out.push(...batch);
    } while (cursor !== '0');
    return out;
  };

  let sent = 0;
  let stop = false;
  const statuses = new Map<number, number>();
  const worker = async (): Promise<void> => {
    while (!stop) {
      const tenant = `tenant-${sent++ % TENANTS}`;
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'api-key': TEST_KEY, 'content-type': 'application/json', 'x-tenant': tenant },
        body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'ttl' }], max_tokens: 2 }),
      });
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  };
  const load = Promise.all(Array.from({ length: 16 }, worker));

  let worst = 0;
  let samples = 0;
  let maxKeys = 0;
  // At least 5 s and two passes over every tenant (a loaded CI machine sends fewer per second).
  const started = Date.now();
  while (Date.now() - started < 5000 || (sent < 2 * TENANTS && Date.now() - started < 30_000)) {
    await new Promise((r) => setTimeout(r, 500));
    const all = await keys();
    maxKeys = Math.max(maxKeys, all.length);
    const ttls = await Promise.all(all.map((k) => client.pttl(k)));
    for (const [i, ttl] of ttls.entries()) {
      if (ttl === -2) continue; // expired between SCAN and PTTL
      assert.ok(ttl >= 0, `key ${all[i]} has no TTL (${ttl})`);
      worst = Math.max(worst, ttl);
      samples++;
    }
  }
  stop = true;
  await load;
  assert.deepEqual([...statuses.keys()], [200], 'the limits were never reached; only TTLs are under test');
  assert.ok(sent >= TENANTS, `every tenant got traffic (${sent} requests)`);
  assert.ok(samples > 1000 && maxKeys >= TENANTS, `${samples} TTLs sampled, up to ${maxKeys} keys at once`);
  assert.ok(worst <= LONGEST_WINDOW_MS + 1000, `longest TTL ${worst} ms`);

  const stoppedAt = Date.now();
  while ((await keys()).length > 0) {
    assert.ok(Date.now() - stoppedAt < LONGEST_WINDOW_MS + 1000 + 1500, 'every key expires within window + 1 s of the last request');
    await new Promise((r) => setTimeout(r, 100));
  }
});
