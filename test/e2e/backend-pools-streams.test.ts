/**
 * Stream safety in a pool (RELIABILITY C19, C20, C22, C23): failover happens only before the
 * first byte; after it, a backend failure ends the stream with a terminal error event and is
 * never retried; cut and stalled streams count for the breaker like unary failures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MEMBERS, RETRY_FAILOVER, startPool } from '../helpers/pool.ts';
import { waitFor } from '../helpers/gateway.ts';

const STREAM = { stream: true, max_tokens: 20 };

void test('failover before the first byte: a PTU that resets or answers 429 is replaced by one clean stream', async (t) => {
  const pool = await startPool({ breaker: null, backendSection: RETRY_FAILOVER });
  t.after(() => pool.close());
  for (const fault of ['reset', '429']) {
    pool.sims['openai-ptu-eastus'].setFault(fault);
    for (let i = 0; i < 5; i++) {
      const res = await pool.chat(STREAM, { 'x-sim-completion-tokens': '20' });
      assert.equal(res.status, 200, fault);
      assert.equal(res.headers.get('content-type'), 'text/event-stream');
      assert.notEqual(res.headers.get('x-sim-name'), 'openai-ptu-eastus');
      const text = await res.text();
      assert.equal(text.match(/data: \[DONE\]/g)?.length, 1, 'one complete stream');
      assert.equal(text.match(/"role":"assistant"/g)?.length, 1, 'the answer starts once: nothing from the failed attempt');
      assert.doesNotMatch(text, /event: error/);
    }
  }
});

void test('failover fails everywhere before the first byte: a real HTTP error status, no stream leaked', async (t) => {
  const pool = await startPool({ breaker: null, backendSection: RETRY_FAILOVER });
  t.after(() => pool.close());
  for (const id of MEMBERS) pool.sims[id].setFault('reset');
  const res = await pool.chat(STREAM);
  assert.equal(res.status, 502);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  const body = (await res.json()) as { error: { code: string } };
  assert.equal(body.error.code, 'GW_ERR_BACKEND_UNREACHABLE');
  assert.deepEqual(pool.counts(), { 'openai-ptu-eastus': 1, 'openai-payg-westus': 1, 'openai-payg-northeu': 1 });
});

void test('a mid-stream cut ends the stream with an error event, is not retried, and trips the breaker like a 5xx', async (t) => {
  const breaker = { rules: [{ failureCondition: { count: 2, interval: 'PT1M', statusCodeRanges: [{ min: 500, max: 599 }] }, tripDuration: 'PT1M' }] };
  const pool = await startPool({ breaker, backendSection: RETRY_FAILOVER });
  t.after(() => pool.close());
  pool.sims['openai-ptu-eastus'].setFault('cut-after:3');
  for (let i = 0; i < 2; i++) {
    const res = await pool.chat(STREAM, { 'x-sim-completion-tokens': '20' });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /event: error\ndata: \{"error":\{[^\n]*"code":"GW_ERR_BACKEND_STREAM_ABORTED"/);
    assert.doesNotMatch(text, /\[DONE\]/);
    assert.equal(text.match(/"role":"assistant"/g)?.length, 1, 'no second answer spliced after the cut');
  }
  assert.deepEqual(pool.counts(), { 'openai-ptu-eastus': 2, 'openai-payg-westus': 0, 'openai-payg-northeu': 0 }, 'after the first byte nothing is retried');
  const cut = pool.usages.filter((u) => u.errorCode === 'GW_ERR_BACKEND_STREAM_ABORTED');
  assert.equal(cut.length, 2, 'each cut stream has its usage record');
  assert.ok(cut.every((u) => u.backend === 'openai-ptu-eastus' && u.completionTokens > 0), 'the partial answer is metered');

  const health = await pool.health();
  assert.equal(health.state, 'open', 'two cut streams meet count: 2, as two 500s would');
  assert.equal(health.lastTrip?.reason, 'stream');
  const res = await pool.chat(STREAM);
  assert.equal(res.status, 200);
  assert.notEqual(res.headers.get('x-sim-name'), 'openai-ptu-eastus');
  assert.match(await res.text(), /data: \[DONE\]\n\n$/);
  for (const b of pool.gw.current().backends.values()) await waitFor(() => b.active === 0, 2000, `${b.id}: cut streams leave the active count`);
});

void test('a mid-stream error names the pool member that failed, not the pool', async (t) => {
  const pool = await startPool({ breaker: null, backendSection: RETRY_FAILOVER });
  t.after(() => pool.close());
  pool.sims['openai-ptu-eastus'].setFault('cut-after:2');
  const res = await pool.chat(STREAM, { 'x-sim-completion-tokens': '20' });
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.match(text, /event: error\ndata: [^\n]*Backend \\"openai-ptu-eastus\\" closed the connection mid-response/);
  assert.doesNotMatch(text, /openai-backend-pool/);
  await waitFor(() => pool.logs.some((l) => l.includes('GW_ERR_BACKEND_STREAM_ABORTED')), 2000, 'the failure is logged');
  const logged = pool.logs.filter((l) => l.includes('GW_ERR_BACKEND_STREAM_ABORTED')).join('\n');
  assert.match(logged, /Backend \\"openai-ptu-eastus\\"/);
  assert.doesNotMatch(logged, /openai-backend-pool/);
});

void test('timeouts: no headers gives 504 at the configured timeout; a stalled stream ends with an error event; both count as timeouts', async (t) => {
  const breaker = { rules: [{ failureCondition: { count: 1, interval: 'PT1M', errorReasons: ['timeout'] }, tripDuration: 'PT1M' }] };
  const pool = await startPool({
    breaker: { 'openai-ptu-eastus': breaker, 'openai-payg-westus': breaker },
    services: [{ id: 'openai-ptu-eastus', priority: 1, weight: 1 }, { id: 'openai-payg-westus', priority: 2, weight: 1 }],
    memberConfig: {
      'openai-ptu-eastus': { timeouts: { responseHeadersMs: 600 } },
      'openai-payg-westus': { timeouts: { idleStreamMs: 400 } },
    },
  });
  t.after(() => pool.close());
  pool.sims['openai-ptu-eastus'].setFault('hang');
  let started = performance.now();
  const hung = await pool.chat();
  const headersMs = performance.now() - started;
  assert.equal(hung.status, 504);
  assert.equal(((await hung.json()) as { error: { code: string } }).error.code, 'GW_ERR_BACKEND_TIMEOUT');
  // Never early: undici's own timer may fire up to 0.5 s early, so short timeouts use a native one.
  assert.ok(headersMs >= 600 && headersMs < 2000, `504 after ${headersMs.toFixed(0)} ms (timeout 600 ms)`);

  pool.sims['openai-payg-westus'].setFault('stall-after:2');
  started = performance.now();
  const stalled = await pool.chat(STREAM);
  assert.equal(stalled.status, 200);
  assert.equal(stalled.headers.get('x-sim-name'), 'openai-payg-westus', 'the PTU is open after its timeout');
  const text = await stalled.text();
  const streamMs = performance.now() - started;
  assert.match(text, /event: error\ndata: [^\n]*"code":"GW_ERR_BACKEND_TIMEOUT"/);
  assert.ok(streamMs < 400 + 1000, `terminal error after ${streamMs.toFixed(0)} ms (idle timeout 400 ms)`);

  await waitFor(() => pool.usages.length >= 2, 3000, 'usage records');
  for (const id of ['openai-ptu-eastus', 'openai-payg-westus'] as const) {
    const health = await pool.health(id);
    assert.equal(health.state, 'open', id);
    assert.equal(health.lastTrip?.reason, 'timeout', id);
  }
  const res = await pool.chat();
  assert.equal(res.status, 503, 'both members open: the fast 503');
  await res.arrayBuffer();
});

void test('forward-request timeout="1" answers 504 after one second, not earlier', async (t) => {
  const pool = await startPool({ breaker: null, backendSection: '<forward-request timeout="1" />', services: [{ id: 'openai-ptu-eastus', priority: 1, weight: 1 }] });
  t.after(() => pool.close());
  pool.sims['openai-ptu-eastus'].setFault('hang');
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const res = await pool.chat();
    const ms = performance.now() - started;
    assert.equal(res.status, 504);
    await res.arrayBuffer();
    assert.ok(ms >= 1000 && ms < 2500, `504 after ${ms.toFixed(0)} ms`);
  }
});
