/**
 * Limits that hold across replicas: several gateways sharing one private Redis (RELIABILITY A1),
 * and the fail modes when Redis dies (A5, A6).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, type RunningRedis } from '../helpers/redis.ts';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';

let redis: RunningRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.stop());

const policy = (tpm: number): string =>
  `<policies><inbound><base /><llm-token-limit tokens-per-minute="${tpm}" counter-key="@(context.Subscription.Id)" estimate-prompt-tokens="true" /></inbound></policies>`;

async function replicas(n: number, tpm: number, state: Record<string, unknown>): Promise<TestGateway[]> {
  const out: TestGateway[] = [];
  for (let i = 0; i < n; i++) {
    out.push(await startTestGateway({ apiPolicies: policy(tpm), logLevel: 'warn', config: { state: { store: 'redis', url: redis.url, commandTimeoutMs: 50, ...state } } }));
  }
  return out;
}

function chat(t: TestGateway, tokens: number): Promise<{ status: number; total: number }> {
  return fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json', 'x-sim-completion-tokens': String(tokens) },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'replicas' }], max_tokens: tokens }),
  }).then(async (r) => ({ status: r.status, total: r.status === 200 ? ((await r.json()) as { usage: { total_tokens: number } }).usage.total_tokens : (await r.arrayBuffer(), 0) }));
}

for (const n of [2, 4]) {
  test(`${n} replicas sharing Redis admit at most the limit under concurrent load, and use it`, async () => {
    await redis.restart();
    // Accuracy, not fail mode, is under test: every replica runs in this one busy test process,
    // so a generous command timeout keeps event-loop lag from counting as a Redis failure.
    const gws = await replicas(n, 10_000, { failMode: 'closed', replicas: n, commandTimeoutMs: 2000 });
    try {
      // 64 clients, round-robin over the replicas, ~50 tokens per request, until refused everywhere.
      let admitted = 0;
      let firstRefusalAt = -1;
      for (let wave = 0; wave < 20; wave++) {
        const results = await Promise.all(Array.from({ length: 64 }, (_, i) => chat(gws[i % n]!, 40)));
        for (const r of results) {
          if (r.status === 200) admitted += r.total;
          assert.ok(r.status === 200 || r.status === 429, `status ${r.status}`);
        }
        // The 64 requests of a wave are concurrent, so which of them the full counter refuses
        // is a matter of arrival (a replica's reserves can reach Redis together): a refusal is
        // early when its wave ends with room left, whatever its place in the array.
        if (firstRefusalAt < 0 && results.some((r) => r.status === 429)) firstRefusalAt = admitted;
        if (results.every((r) => r.status === 429)) break;
      }
      assert.ok(admitted <= 10_200, `admitted ${admitted} tokens ≤ limit + 2%`);
      assert.ok(firstRefusalAt >= 9_800, `no early 429 (before 98%): the first wave with a refusal ended at ${firstRefusalAt} tokens`);
    } finally {
      await Promise.all(gws.map((g) => g.close()));
    }
  });
}

test('Redis down, fail closed: 503 with Retry-After, and the backend is never called', async () => {
  await redis.restart();
  const [gw] = await replicas(1, 10_000, { failMode: 'closed' });
  try {
    assert.equal((await chat(gw!, 5)).status, 200);
    await redis.stop();
    const before = gw!.sim.stats.requests;
    const started = Date.now();
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${gw!.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'api-key': TEST_KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], max_tokens: 5 }),
      });
      assert.equal(res.status, 503);
      assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'GW_ERR_STATE_UNAVAILABLE');
    }
    assert.ok(Date.now() - started < 3000, 'fast answers, no waiting on a dead Redis');
    assert.equal(gw!.sim.stats.requests, before, 'nothing forwarded unchecked');
  } finally {
    await gw!.close();
    await redis.restart();
  }
});

test('Redis down, fail open: requests keep flowing under a local limit, and shared enforcement resumes when Redis returns', async () => {
  await redis.restart();
  const [gw] = await replicas(1, 100_000, { failMode: 'open', replicas: 2 });
  try {
    assert.equal((await chat(gw!, 5)).status, 200);
    await redis.stop();
    for (let i = 0; i < 10; i++) assert.equal((await chat(gw!, 5)).status, 200, 'fail open: no 5xx');
    const metrics = await (await fetch(`${gw!.gw.adminUrl}/metrics`)).text();
    assert.match(metrics, /tollgate_state_events_total\{type="fallback"\} [1-9]/);
    await redis.restart();
    const deadline = Date.now() + 3000;
    let roundTrips = 0;
    while (Date.now() < deadline) {
      assert.equal((await chat(gw!, 5)).status, 200);
      const m = /tollgate_state_round_trips_total (\d+)/.exec(await (await fetch(`${gw!.gw.adminUrl}/metrics`)).text());
      const now = Number(m?.[1] ?? 0);
      if (roundTrips > 0 && now > roundTrips) break;
      roundTrips = now;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(Date.now() < deadline, 'Redis is used again within a few seconds of its return');
  } finally {
    await gw!.close();
  }
});
