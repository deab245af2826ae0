/**
 * What an operator reads in the log about Redis: nothing at a clean start, and during an outage
 * one warning per component when it starts failing and one line when it recovers (with how many
 * failures there were), however many polls, probes and requests failed in between.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPool } from '../helpers/pool.ts';
import { startRedis } from '../helpers/redis.ts';

const LIMITED = `<policies><inbound><base />
  <llm-token-limit counter-key="@(context.Subscription.Id)" tokens-per-minute="1000000" estimate-prompt-tokens="true" />
  <set-backend-service backend-id="openai-backend-pool" />
</inbound><backend><forward-request /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`;

interface Line {
  level: number;
  msg: string;
  stateEvent?: string;
  failures?: number;
}

const redisLines = (logs: string[]): Line[] =>
  logs.map((l) => JSON.parse(l) as Line).filter((l) => l.stateEvent !== undefined || /redis/i.test(l.msg));

void test('a clean start with Redis logs nothing about Redis (the circuit store waits for its connection before polling)', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const gw = await startPool({ state: { store: 'redis', url: redis.url, keyPrefix: `log-start-${process.pid}:` }, policyDocument: LIMITED });
  t.after(() => gw.close());
  assert.equal((await gw.chat()).status, 200);
  // Three circuit polls (500 ms apart) after the first one.
  await new Promise((r) => setTimeout(r, 1600));
  assert.deepEqual(redisLines(gw.logs), []);
});

void test('a Redis outage: one warning per component when it starts failing, one recovery line with the count', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const gw = await startPool({ state: { store: 'redis', url: redis.url, keyPrefix: `log-outage-${process.pid}:` }, policyDocument: LIMITED });
  t.after(() => gw.close());
  assert.equal((await gw.chat()).status, 200);

  await redis.stop();
  // Requests (each a failed or skipped reserve), circuit polls and breaker probes for ~2.5 s.
  const until = Date.now() + 2500;
  while (Date.now() < until) {
    assert.equal((await gw.chat()).status, 200, 'fail-open: served without Redis');
    await new Promise((r) => setTimeout(r, 100));
  }
  const down = redisLines(gw.logs);
  const failing = (component: string): Line[] => down.filter((l) => l.stateEvent === component && l.level === 40);
  assert.equal(failing('limit-store').length, 1, JSON.stringify(down));
  assert.equal(failing('circuit-sharing').length, 1, JSON.stringify(down));
  assert.equal(down.length, 2, `nothing else about Redis while it is down: ${JSON.stringify(down)}`);

  await redis.restart();
  const deadline = Date.now() + 10_000;
  while (redisLines(gw.logs).filter((l) => /recovered/.test(l.msg)).length < 2) {
    assert.ok(Date.now() < deadline, `both components log their recovery: ${JSON.stringify(redisLines(gw.logs))}`);
    await (await gw.chat()).arrayBuffer();
    await new Promise((r) => setTimeout(r, 100));
  }
  const recovered = redisLines(gw.logs).filter((l) => /recovered/.test(l.msg));
  for (const line of recovered) assert.ok((line.failures ?? 0) >= 2, `the failures in between are counted: ${JSON.stringify(line)}`);
  assert.deepEqual(recovered.map((l) => l.stateEvent).sort(), ['circuit-sharing', 'limit-store']);
});
