/**
 * `cache-lookup` / `cache-store`: APIM's exact response cache in front of a plain HTTP API (a
 * local server that counts its requests), keyed by path, query, the named headers and, when
 * asked, the subscription.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';

const OTHER_KEY = 'tg-other-key-0123456789abcdef';
let served = 0;
const origin = createServer((req, res) => {
  served++;
  const status = req.headers['x-want-status'] === undefined ? 200 : Number(req.headers['x-want-status']);
  res.writeHead(status, { 'content-type': 'application/json', 'set-cookie': 'session=secret' });
  res.end(JSON.stringify({ served, url: req.url, lang: req.headers['accept-language'] ?? null }));
});
origin.listen(0, '127.0.0.1');
await new Promise((r) => origin.once('listening', r));
after(() => origin.close());
const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;

function start(policy: string): Promise<TestGateway> {
  return startTestGateway({
    extraBackends: { items: { url: originUrl } },
    extraApis: { items: { path: 'items', type: 'http', backend: 'items', policies: `<policies>${policy}</policies>` } },
    config: {
      subscriptions: {
        'team-a': { product: 'starter', keys: ['{{team-key}}'] },
        'team-b': { product: 'starter', keys: [OTHER_KEY] },
      },
    },
  });
}

async function get(t: TestGateway, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; cache: string | null; body: { served: number }; cc: string | null; cookie: string | null }> {
  const res = await fetch(`${t.url}/items${path}`, { method, headers: { 'api-key': TEST_KEY, ...headers } });
  return { status: res.status, cache: res.headers.get('x-tollgate-cache'), body: (await res.json()) as { served: number }, cc: res.headers.get('cache-control'), cookie: res.headers.get('set-cookie') };
}

test('a repeated GET is answered from the cache without the origin; the query, the named headers and the developer key it', async () => {
  const t = await start(`
    <inbound><base /><cache-lookup vary-by-developer="true" vary-by-developer-groups="false" downstream-caching-type="private">
      <vary-by-header>Accept-Language</vary-by-header>
      <vary-by-query-parameter>id</vary-by-query-parameter>
    </cache-lookup></inbound>
    <outbound><base /><cache-store duration="60" /></outbound>`);
  try {
    const first = await get(t, '/a?id=1&noise=1');
    assert.equal(first.cache, 'miss');
    assert.match(first.cc ?? '', /^private, max-age=60/);
    const second = await get(t, '/a?id=1&noise=2');
    assert.equal(second.cache, 'hit', 'noise is not a vary-by parameter');
    assert.equal(second.body.served, first.body.served, 'the same answer, the origin not called');
    assert.equal(second.cookie, null, 'Set-Cookie is never replayed');
    assert.equal((await get(t, '/a?id=2')).cache, 'miss');
    assert.equal((await get(t, '/b?id=1')).cache, 'miss', 'another path');
    assert.equal((await get(t, '/a?id=1', { 'accept-language': 'de' })).cache, 'miss', 'another Accept-Language');
    assert.equal((await get(t, '/a?id=1', { 'api-key': OTHER_KEY })).cache, 'miss', 'another developer');
    assert.equal((await get(t, '/a?id=1', {}, 'POST')).cache, null, 'only GET is cached');
  } finally {
    await t.close();
  }
});

test('only 200 answers are stored unless cache-response is true; without vary-by-developer subscriptions share', async () => {
  const t = await start(`
    <inbound><base /><cache-lookup vary-by-developer="false" vary-by-developer-groups="false" /></inbound>
    <outbound><base /><cache-store duration="60" /></outbound>`);
  try {
    assert.equal((await get(t, '/created', { 'x-want-status': '201' })).status, 201);
    assert.equal((await get(t, '/created', { 'x-want-status': '201' })).cache, 'miss', 'a 201 is not stored by default');
    assert.equal((await get(t, '/err', { 'x-want-status': '500' })).status, 500);
    assert.equal((await get(t, '/err')).cache, 'miss', 'a 500 is never stored');
    assert.equal((await get(t, '/err')).cache, 'hit');
    assert.equal((await get(t, '/err', { 'api-key': OTHER_KEY })).cache, 'hit', 'APIM semantics: vary-by-developer="false" shares the entry');
  } finally {
    await t.close();
  }
});
