/**
 * Budgets (`budget: { usd, period }` on a product or a subscription): reserve-then-settle on the
 * limit store like the token quota, so two replicas sharing one Redis hold one budget between
 * them; a request that would not fit is refused with 403 GW_ERR_BUDGET_EXCEEDED (saying when the
 * budget resets) before any backend is called; the next period starts afresh.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';
import { startRedis, type RunningRedis } from '../helpers/redis.ts';

const headers = { 'api-key': TEST_KEY, 'content-type': 'application/json', 'x-sim-completion-tokens': '50' };
const body = JSON.stringify({ model: 'gpt-4o', max_tokens: 50, messages: [{ role: 'user', content: 'A short answer about budgets, please.' }] });
// 100 USD per 1M tokens either way: every token costs 0.0001 USD, a request about 0.0065 USD.
const pricing = { 'gpt-4o': { input: 100, output: 100 } };

interface ErrorBody {
  error: { code: string; message: string; type: string };
}

describe('budgets across two replicas on one Redis', () => {
  let redis: RunningRedis;
  let a: TestGateway;
  let b: TestGateway;
  before(async () => {
    redis = await startRedis();
    const config = {
      pricing,
      state: { store: 'redis', url: redis.url, commandTimeoutMs: 1000 },
      products: { starter: { apis: ['openai', 'azure-openai'], budget: { usd: 0.1, period: 'daily' } } },
    };
    a = await startTestGateway({ logLevel: 'warn', config });
    b = await startTestGateway({ logLevel: 'warn', config });
  });
  after(async () => {
    await a.close();
    await b.close();
    await redis.stop();
  });

  test('the two replicas together spend at most the product budget, and refuse before calling a backend', async () => {
    const statuses: number[] = [];
    const refusals: Array<{ body: ErrorBody; retryAfter: string | null }> = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 10 }, async (_, w) => {
        while (next < 60) {
          next++;
          const gw = w % 2 === 0 ? a : b;
          const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers, body });
          statuses.push(res.status);
          if (res.status === 403) refusals.push({ body: (await res.json()) as ErrorBody, retryAfter: res.headers.get('retry-after') });
          else await res.arrayBuffer();
        }
      }),
    );
    const admitted = statuses.filter((s) => s === 200).length;
    assert.equal(admitted + refusals.length, 60);
    const cost = (u: { promptTokens: number; completionTokens: number }): number => (u.promptTokens + u.completionTokens) * 0.0001;
    const ok = [...a.usages, ...b.usages].filter((u) => u.status === 200);
    const spent = ok.reduce((s, u) => s + cost(u), 0);
    const perRequest = cost(ok[0] as { promptTokens: number; completionTokens: number });
    assert.ok(spent <= 0.1 + 1e-9, `spent ${spent} USD of a 0.1 USD budget`);
    // No false refusals: the budget was used up to less than one request's cost.
    assert.ok(spent > 0.1 - perRequest * 1.5, `spent only ${spent} USD before refusing`);
    // Refused requests never reached a backend.
    assert.equal(a.sim.stats.requests + b.sim.stats.requests, admitted);
    for (const r of refusals) {
      assert.equal(r.body.error.code, 'GW_ERR_BUDGET_EXCEEDED');
      assert.match(r.body.error.message, /daily budget of product "starter" \(0\.1 USD\) is spent; it resets at \d{4}-\d{2}-\d{2}T00:00:00\.000Z/);
      assert.ok(Number(r.retryAfter) > 0);
    }
    // Spent is spent, on either replica.
    for (const gw of [a, b]) {
      const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers, body });
      assert.equal(res.status, 403);
      assert.equal(((await res.json()) as ErrorBody).error.code, 'GW_ERR_BUDGET_EXCEEDED');
    }
  });
});

describe('a subscription budget in memory', () => {
  test('failed requests cost nothing, a spent budget refuses, and the next period starts afresh', async () => {
    let now = Date.UTC(2026, 0, 15, 12);
    const t = await startTestGateway({
      logLevel: 'warn',
      clock: () => now,
      config: {
        pricing,
        subscriptions: { 'team-a': { product: 'starter', keys: ['{{team-key}}'], budget: { usd: 0.02, period: 'monthly' } } },
      },
    });
    try {
      const send = async (extra: Record<string, string> = {}): Promise<number> => {
        const res = await fetch(`${t.url}/v1/chat/completions`, { method: 'POST', headers: { ...headers, ...extra }, body });
        await res.arrayBuffer();
        return res.status;
      };
      // Backend failures are released, not charged.
      for (let i = 0; i < 5; i++) assert.equal(await send({ 'x-sim-fail': '500' }), 500);
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push(await send());
      assert.deepEqual(statuses, [200, 200, 200, 403, 403, 403]);
      now = Date.UTC(2026, 1, 1, 0, 0, 1);
      assert.equal(await send(), 200);
    } finally {
      await t.close();
    }
  });
});
