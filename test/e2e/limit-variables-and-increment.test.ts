/**
 * Limit policies as published documents use them: a limit's output variables are readable by the
 * policies right after it in the same section (the admission moves there, and only there: the
 * common case still makes one store round trip, counted in Redis), and `rate-limit-by-key`'s
 * `increment-count` / `increment-condition` are evaluated when the response is known (APIM's
 * documented token-counting workaround).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startRedis, type RunningRedis } from '../helpers/redis.ts';
import { startTestGateway, waitFor, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';

let redis: RunningRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.stop());

const doc = (inbound: string, outbound = '<base />'): string =>
  `<policies><inbound><base />${inbound}</inbound><backend><base /></backend><outbound>${outbound}</outbound><on-error><base /></on-error></policies>`;

const RATE = '<rate-limit-by-key calls="100" renewal-period="60" counter-key="@(context.Subscription.Id)" remaining-calls-variable-name="calls-left" />';
const TOKENS = '<llm-token-limit counter-key="@(context.Subscription.Id)" tokens-per-minute="100000" estimate-prompt-tokens="true" remaining-tokens-variable-name="tokens-left" />';
const READ_CALLS = '<set-header name="x-calls-left" exists-action="override"><value>@(context.Variables.GetValueOrDefault&lt;int&gt;("calls-left", -1).ToString())</value></set-header>';

function chat(t: TestGateway, maxTokens = 2): Promise<Response> {
  return fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'count me' }], max_tokens: maxTokens }),
  });
}

/** EVAL and EVALSHA calls Redis has served since the last reset: one per limit round trip (reserve or settle). */
async function scriptCalls(client: Redis): Promise<number> {
  const info = await client.info('commandstats');
  let n = 0;
  for (const m of info.matchAll(/^cmdstat_(?:eval|evalsha):calls=(\d+)/gm)) n += Number(m[1]);
  return n;
}

/** One request through a fresh gateway on the shared Redis; the script calls it caused (its settle included, flushed on close). */
async function scriptCallsOfOneRequest(policies: string, check: (res: Response, t: TestGateway) => Promise<void>): Promise<number> {
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  try {
    const state = (): Record<string, unknown> => ({ store: 'redis', url: redis.url, commandTimeoutMs: 1000, keyPrefix: `early-${Math.random().toString(36).slice(2)}:` });
    // Warm-up on its own gateway and counters (it loads the scripts into Redis), closed before counting.
    const warm = await startTestGateway({ apiPolicies: policies, logLevel: 'warn', config: { state: state() } });
    await (await chat(warm)).arrayBuffer();
    await warm.close();
    await client.config('RESETSTAT');
    const t = await startTestGateway({ apiPolicies: policies, logLevel: 'warn', config: { state: state() } });
    try {
      const res = await chat(t);
      await check(res, t);
      await waitFor(() => t.usages.length === 1, 5000, 'the request to finish');
    } finally {
      await t.close(); // flushes the queued settle
    }
    return await scriptCalls(client);
  } finally {
    client.disconnect();
  }
}

test('with nothing reading a limit\'s variables early, every limit of a request is reserved in one Redis round trip; a document that reads one right after its limit makes exactly one more', async () => {
  const common = await scriptCallsOfOneRequest(doc(`${RATE}${TOKENS}`, `<base />${READ_CALLS}`), async (res) => {
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-calls-left'), '99', 'outbound reads the variable after the end-of-inbound admission');
    await res.arrayBuffer();
  });
  const early = await scriptCallsOfOneRequest(doc(`${RATE}${READ_CALLS}${TOKENS}`), async (res, t) => {
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    assert.equal(t.sim.requests.at(-1)?.headers['x-calls-left'], '99', 'the policy right after the rate limit saw its variable');
  });
  // Both documents have the same limits and costs, so the same settles (0 or 1: a settle is only
  // sent when a cost differs from its reservation); the difference is the reserves.
  assert.ok(common >= 1 && common <= 2, `one reserve for both limits, at most one settle (got ${common})`);
  assert.equal(early, common + 1, 'the rate limit reserved before the header, the token limit at the end of inbound');
});

test('a later policy in a choose reads tokens left right after llm-token-limit (memory store)', async () => {
  const t = await startTestGateway({
    apiPolicies: doc(`${TOKENS}<choose><when condition="@(context.Variables.GetValueOrDefault&lt;int&gt;(&quot;tokens-left&quot;, -1) &gt; 0)"><set-header name="x-tokens-known" exists-action="override"><value>yes</value></set-header></when></choose>`),
  });
  try {
    const res = await chat(t);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    assert.equal(t.sim.requests.at(-1)?.headers['x-tokens-known'], 'yes');
  } finally {
    await t.close();
  }
});

test('rate-limit-by-key counts increment-count from the response body, and only when increment-condition holds then', async () => {
  const t = await startTestGateway({
    apiPolicies: doc(
      `<rate-limit-by-key calls="60" renewal-period="60" counter-key="@(context.Subscription.Id)"
          increment-condition="@(context.Response.StatusCode == 200)"
          increment-count="@(context.Response.Body.As&lt;JObject&gt;(preserveContent: true)[&quot;usage&quot;][&quot;total_tokens&quot;].Value&lt;int&gt;())"
          remaining-calls-header-name="x-remaining" />`,
    ),
  });
  try {
    const first = await chat(t);
    assert.equal(first.status, 200);
    const total = ((await first.json()) as { usage: { total_tokens: number } }).usage.total_tokens;
    assert.ok(total > 1 && total < 30, `a small answer (${total} tokens)`);
    assert.equal(first.headers.get('x-remaining'), '59', 'admitted while one more call fits');
    await waitFor(() => t.usages.length === 1, 5000, 'the first request to settle');

    const second = await chat(t);
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('x-remaining'), String(60 - total - 1), 'the first request counted its total tokens');
    await second.arrayBuffer();
    await waitFor(() => t.usages.length === 2, 5000, 'the second request to settle');

    // A refused call (the backend's 400) fails the condition: it counts nothing.
    const bad = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'api-key': TEST_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: 'not a list' }),
    });
    assert.equal(bad.status, 400);
    await bad.arrayBuffer();
    await waitFor(() => t.usages.length === 3, 5000, 'the refused request to settle');
    const third = await chat(t);
    const used = 2 * total;
    if (used < 60) {
      assert.equal(third.status, 200);
      assert.equal(third.headers.get('x-remaining'), String(60 - used - 1));
    } else {
      assert.equal(third.status, 429);
    }
    await third.arrayBuffer();
  } finally {
    await t.close();
  }
});

test('through fragments too: a limit in a fragment is read by the includer right after it, and a fragment reads its includer\'s limit', async () => {
  const t = await startTestGateway({
    config: {
      fragments: {
        'rate-fragment': `<fragment>${RATE}</fragment>`,
        'read-tokens': '<fragment><set-header name="x-tokens-left" exists-action="override"><value>@(context.Variables.GetValueOrDefault&lt;int&gt;("tokens-left", -1) &gt; 0 ? "yes" : "no")</value></set-header></fragment>',
      },
    },
    apiPolicies: doc(`<include-fragment fragment-id="rate-fragment" />${READ_CALLS}${TOKENS}<include-fragment fragment-id="read-tokens" />`),
  });
  try {
    const res = await chat(t);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const seen = t.sim.requests.at(-1)?.headers;
    assert.equal(seen?.['x-calls-left'], '99');
    assert.equal(seen?.['x-tokens-left'], 'yes');
  } finally {
    await t.close();
  }
});
