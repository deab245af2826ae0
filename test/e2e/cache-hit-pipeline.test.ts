/**
 * What runs on a cache hit, as in APIM (its trace on a hit: "Cached response will be used.
 * Processing will continue from the step in the response pipeline that is after the corresponding
 * cache-store"): the inbound policies after the lookup are skipped, the backend is skipped, and
 * outbound resumes after the store policy; policies before the lookup still run. Both caches,
 * through the gateway with real sockets.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestGateway, TEST_KEY } from '../helpers/gateway.ts';
import { chat, chatCalls, doc, start } from '../helpers/semantic-cache.ts';

const LOOKUP = '<llm-semantic-cache-lookup score-threshold="0.95" embeddings-backend-id="embeddings-backend" embeddings-backend-auth="system-assigned" />';

test('semantic cache hit: later inbound policies and outbound policies before the store are skipped, those after it run', async () => {
  const t = await start({
    policy: doc(
      `<inbound><base />
        <set-variable name="beforeLookup" value="ran" />
        ${LOOKUP}
        <set-variable name="afterLookup" value="ran" />
        <rate-limit calls="2" renewal-period="60" />
      </inbound>`,
      `<outbound><base />
        <set-header name="x-before-store" exists-action="override"><value>ran</value></set-header>
        <llm-semantic-cache-store duration="60" />
        <set-header name="x-after-store" exists-action="override"><value>@((string)context.Variables.GetValueOrDefault("beforeLookup", "no") + "/" + (string)context.Variables.GetValueOrDefault("afterLookup", "no"))</value></set-header>
      </outbound>`,
    ),
  });
  try {
    const miss = await chat(t, 'Which planet is closest to the sun?');
    assert.equal(miss.headers.get('x-tollgate-cache'), 'miss');
    assert.equal(miss.headers.get('x-before-store'), 'ran');
    assert.equal(miss.headers.get('x-after-store'), 'ran/ran', 'a miss runs every policy');
    await miss.arrayBuffer();

    // The rate limit (2 calls) sits after the lookup: hits never reach it, as APIM's advice to put
    // one "immediately after any cache lookup" (to protect the backend) assumes.
    for (let i = 0; i < 3; i++) {
      const hit = await chat(t, 'Which planet is closest to the sun?');
      assert.equal(hit.status, 200, `hit ${i + 1} is not rate limited`);
      assert.equal(hit.headers.get('x-tollgate-cache'), 'hit');
      assert.equal(hit.headers.get('x-before-store'), null, 'outbound before the store is skipped on a hit');
      assert.equal(hit.headers.get('x-after-store'), 'ran/no', 'policies before the lookup ran, those after it did not; outbound after the store ran');
      await hit.arrayBuffer();
    }
    assert.equal(chatCalls(t), 1);
    const second = await chat(t, 'Describe the rings of Saturn.');
    assert.equal(second.status, 200, 'the second miss is the rate limit\'s second call');
    await second.arrayBuffer();
    const third = await chat(t, 'How many moons does Mars have?');
    assert.equal(third.status, 429, 'the third miss is refused: only misses counted');
    await third.arrayBuffer();
  } finally {
    await t.close();
  }
});

let served = 0;
const origin = createServer((req, res) => {
  served++;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ served }));
});
origin.listen(0, '127.0.0.1');
await new Promise((r) => origin.once('listening', r));
after(() => origin.close());

test('response cache hit: the same pipeline rule; with no store at the top of outbound every outbound policy runs', async () => {
  const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  const t = await startTestGateway({
    extraBackends: { items: { url: originUrl } },
    extraApis: {
      items: {
        path: 'items',
        type: 'http',
        backend: 'items',
        policies: doc(
          `<inbound><base /><cache-lookup vary-by-developer="false" vary-by-developer-groups="false" />
            <set-variable name="afterLookup" value="ran" /></inbound>`,
          `<outbound><base />
            <set-header name="x-before-store" exists-action="override"><value>@((string)context.Variables.GetValueOrDefault("afterLookup", "no"))</value></set-header>
            <cache-store duration="60" />
            <set-header name="x-after-lookup" exists-action="override"><value>@((string)context.Variables.GetValueOrDefault("afterLookup", "no"))</value></set-header>
          </outbound>`,
        ),
      },
      plain: {
        path: 'plain',
        type: 'http',
        backend: 'items',
        // A lookup without a store in this document: nothing marks where outbound resumes, so all of it runs.
        policies: doc(
          '<inbound><base /><cache-lookup vary-by-developer="false" vary-by-developer-groups="false" /></inbound>',
          '<outbound><base /><set-header name="x-outbound" exists-action="override"><value>ran</value></set-header></outbound>',
        ),
      },
    },
  });
  try {
    const get = (path: string): Promise<Response> => fetch(`${t.url}${path}`, { headers: { 'api-key': TEST_KEY } });
    const miss = await get('/items/x');
    assert.equal(miss.headers.get('x-tollgate-cache'), 'miss');
    assert.equal(miss.headers.get('x-before-store'), 'ran');
    assert.equal(miss.headers.get('x-after-lookup'), 'ran');
    const first = (await miss.json()) as { served: number };
    const hit = await get('/items/x');
    assert.equal(hit.headers.get('x-tollgate-cache'), 'hit');
    // The stored response carries the header as it was when stored; run again it would say "no".
    assert.equal(hit.headers.get('x-before-store'), 'ran', 'outbound before the store is skipped on a hit');
    assert.equal(hit.headers.get('x-after-lookup'), 'no', 'inbound after the lookup is skipped; outbound after the store runs');
    assert.deepEqual(await hit.json(), first, 'the stored answer; the origin was not called');

    const plain = await get('/plain/y');
    assert.equal(plain.headers.get('x-tollgate-cache'), 'miss');
    assert.equal(plain.headers.get('x-outbound'), 'ran');
    await plain.arrayBuffer();
  } finally {
    await t.close();
  }
});
