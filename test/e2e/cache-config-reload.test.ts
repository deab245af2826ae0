/**
 * `cache.responses` follows a configuration reload: smaller bounds evict at once (least recently
 * used first), `maxEntryBytes`, `partition` and `embeddingsMemo` apply to the next request, and the
 * cached answers themselves stay.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfigObject } from '../../src/config/load.ts';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';
import { chat, OTHER_KEY, start } from '../helpers/semantic-cache.ts';

let served = 0;
const origin = createServer((_req, res) => {
  served++;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ served, padding: 'x'.repeat(200) }));
});
origin.listen(0, '127.0.0.1');
await new Promise((r) => origin.once('listening', r));
after(() => origin.close());

/** Reloads `t` with its own configuration and `cache.responses` replaced by `responses`. */
function reloadWith(t: TestGateway, responses: Record<string, unknown>): Promise<void> {
  return t.gw.reload(loadConfigObject({ ...t.config, cache: { responses } }));
}

test('a reload re-reads the response cache bounds: fewer entries evict the least recently used at once; maxEntryBytes applies to the next store', async () => {
  const t = await startTestGateway({
    extraBackends: { items: { url: `http://127.0.0.1:${(origin.address() as AddressInfo).port}` } },
    extraApis: {
      items: {
        path: 'items',
        type: 'http',
        backend: 'items',
        policies: '<policies><inbound><base /><cache-lookup vary-by-developer="false" vary-by-developer-groups="false" /></inbound><outbound><base /><cache-store duration="60" /></outbound></policies>',
      },
    },
    config: { cache: { responses: { maxEntries: 10 } } },
  });
  try {
    const get = async (path: string): Promise<string | null> => {
      const res = await fetch(`${t.url}/items${path}`, { headers: { 'api-key': TEST_KEY } });
      await res.arrayBuffer();
      return res.headers.get('x-tollgate-cache');
    };
    for (const p of ['/a', '/b', '/c']) assert.equal(await get(p), 'miss');
    assert.equal(await get('/a'), 'hit', '/a is now the most recently used');
    assert.equal(t.gw.responseCaches.exact.size, 3);

    await reloadWith(t, { maxEntries: 2 });
    assert.equal(t.gw.responseCaches.exact.size, 2, 'the smaller bound evicts at once');
    assert.equal(await get('/a'), 'hit', 'the cached answers stay');
    assert.equal(await get('/b'), 'miss', '/b was the least recently used, so it went');

    await reloadWith(t, { maxEntries: 10, maxEntryBytes: 64 });
    assert.equal(await get('/big'), 'miss');
    assert.equal(await get('/big'), 'miss', 'an answer over the reloaded maxEntryBytes is not stored');
    assert.equal(await get('/a'), 'hit');
  } finally {
    await t.close();
  }
});

test('a reload re-reads the semantic cache settings: partition "product" lets the product\'s subscriptions share from the next request; embeddingsMemo 0 turns the memo off', async () => {
  const t = await start();
  try {
    const ask = async (content: string, key: string): Promise<string | null> => {
      const res = await chat(t, content, {}, { 'api-key': key });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      return res.headers.get('x-tollgate-cache');
    };
    assert.equal(await ask('What colour is the sky on Mars?', TEST_KEY), 'miss');
    assert.equal(await ask('What colour is the sky on Mars?', OTHER_KEY), 'miss', 'per subscription before the reload');
    assert.equal(t.gw.responseCaches.memo.enabled, true);

    await reloadWith(t, { embeddingsTimeoutMs: 30_000, partition: 'product', embeddingsMemo: 0 });
    assert.equal(await ask('Why is the ocean salty?', TEST_KEY), 'miss');
    assert.equal(await ask('Why is the ocean salty?', OTHER_KEY), 'hit', 'team-a and team-b share their product\'s partition after the reload');
    assert.equal(t.gw.responseCaches.memo.enabled, false, 'embeddingsMemo 0 after the reload');
    const embeddingTokens = t.usages.at(-1)?.embeddingTokens ?? 0;
    assert.ok(embeddingTokens > 0, 'without the memo the repeated prompt was embedded again');
  } finally {
    await t.close();
  }
});
