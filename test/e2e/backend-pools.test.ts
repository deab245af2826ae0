/**
 * The seeds' backend pool (RELIABILITY part C): priority and weight, circuit breakers tripping on
 * 429 and 5xx and recovering through a half-open probe, the fast 503 when every member is open,
 * the seed's retry failing over, and breaker accounting that ignores client cancels.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { burst, MEMBERS, RETRY_FAILOVER, startPool, type AdminStatus } from '../helpers/pool.ts';
import { waitFor } from '../helpers/gateway.ts';
import { useSimulatedManagedIdentity } from '../helpers/identity.ts';

// The seed's load-balancing document authenticates with <authentication-managed-identity>.
useSimulatedManagedIdentity();

void test('a healthy PTU member takes all traffic; once its 429 trips it, PAYG splits 3:1 (±5% over 2,000 requests)', async (t) => {
  const pool = await startPool({ backendSection: RETRY_FAILOVER });
  t.after(() => pool.close());
  assert.deepEqual(await burst(50, 8, () => pool.chat()), Array(50).fill(200));
  assert.deepEqual(pool.counts(), { 'openai-ptu-eastus': 50, 'openai-payg-westus': 0, 'openai-payg-northeu': 0 });

  pool.sims['openai-ptu-eastus'].setFault('429', { retryAfterSeconds: 3600 });
  pool.resetCounts();
  const statuses = await burst(2000, 16, () => pool.chat());
  assert.equal(statuses.filter((s) => s !== 200).length, 0, 'the retry fails the first 429 over; clients see no error');
  const c = pool.counts();
  // One 429 trips the PTU (count: 1); only requests already sent before that answer reach it.
  assert.ok(c['openai-ptu-eastus'] >= 1 && c['openai-ptu-eastus'] <= 16, `PTU got ${c['openai-ptu-eastus']} (≤ the 16 in flight)`);
  const payg = c['openai-payg-westus'] + c['openai-payg-northeu'];
  assert.equal(payg, 2000);
  const westShare = c['openai-payg-westus'] / payg;
  assert.ok(Math.abs(westShare - 0.75) <= 0.05, `west share ${westShare} should be 0.75 ± 0.05`);
  t.diagnostic(`PTU got ${c['openai-ptu-eastus']} before its circuit opened; west share ${westShare.toFixed(4)}`);
});

void test('a PTU 429 with Retry-After opens its circuit for that long; a probe then returns traffic to it', async (t) => {
  let now = Date.now();
  const pool = await startPool({ clock: () => now, backendSection: RETRY_FAILOVER });
  t.after(() => pool.close());
  const ptu = pool.sims['openai-ptu-eastus'];
  ptu.setFault('429', { retryAfterSeconds: 2 });
  assert.equal((await pool.chat()).status, 200);
  ptu.setFault(null);

  const s = await pool.status();
  const health = await pool.health();
  assert.equal(health.state, 'open');
  assert.equal(health.lastTrip?.reason, 'status 429');
  assert.equal(health.lastTrip?.rule, 'openai-circuit-breaker');
  assert.equal(health.retryInSeconds, 2, 'Retry-After (2 s), not tripDuration (PT1M)');
  assert.deepEqual(s.pools[0]?.members.map((m) => [m.id, m.priority, m.weight, m.state]), [
    ['openai-ptu-eastus', 1, 1, 'open'],
    ['openai-payg-westus', 2, 3, 'closed'],
    ['openai-payg-northeu', 2, 1, 'closed'],
  ]);

  pool.resetCounts();
  now += 1500;
  await burst(8, 1, () => pool.chat());
  assert.equal(pool.counts()['openai-ptu-eastus'], 0, 'still open before Retry-After has passed');

  now += 600;
  pool.resetCounts();
  await burst(8, 1, () => pool.chat());
  assert.equal(pool.counts()['openai-ptu-eastus'], 8, 'the probe succeeded and closed the circuit');
  assert.equal((await pool.health()).state, 'closed');
});

void test('5xx by count: a member that always fails is ejected after 5 failures and gets no traffic while open', async (t) => {
  const breaker = { rules: [{ failureCondition: { count: 5, interval: 'PT1M', statusCodeRanges: [{ min: 500, max: 599 }] }, tripDuration: 'PT1M' }] };
  const pool = await startPool({
    breaker,
    backendSection: RETRY_FAILOVER,
    services: MEMBERS.map((id) => ({ id, priority: 1, weight: 1 })),
  });
  t.after(() => pool.close());
  pool.sims['openai-ptu-eastus'].setFault('500');
  const statuses = await burst(600, 8, () => pool.chat());
  assert.equal(statuses.filter((s) => s !== 200).length, 0, 'client-visible error rate 0 (retry fails over)');
  const c = pool.counts();
  assert.ok(c['openai-ptu-eastus'] <= 5 + 8, `at most 5 failures plus what was in flight when it tripped, got ${c['openai-ptu-eastus']}`);
  assert.ok(c['openai-ptu-eastus'] / 600 <= 0.025);
  t.diagnostic(`the always-failing member got ${c['openai-ptu-eastus']} of 600 requests`);
  assert.equal(c['openai-payg-westus'] + c['openai-payg-northeu'], 600);
});

void test('5xx by percentage: a member failing half its requests trips once 10 requests are in the window', async (t) => {
  const breaker = { rules: [{ failureCondition: { percentage: 40, interval: 'PT1M', statusCodeRanges: [{ min: 500, max: 599 }] }, tripDuration: 'PT1M' }] };
  const pool = await startPool({ breaker, services: [{ id: 'openai-ptu-eastus', priority: 1, weight: 1 }, { id: 'openai-payg-westus', priority: 2, weight: 1 }] });
  t.after(() => pool.close());
  pool.sims['openai-ptu-eastus'].setFault('500', { rate: 0.5 });
  const statuses = await burst(200, 1, () => pool.chat());
  const c = pool.counts();
  assert.ok(c['openai-ptu-eastus'] >= 10 && c['openai-ptu-eastus'] <= 30, `tripped after ${c['openai-ptu-eastus']} requests`);
  t.diagnostic(`percentage rule tripped after ${c['openai-ptu-eastus']} requests`);
  assert.equal(c['openai-payg-westus'], 200 - c['openai-ptu-eastus']);
  assert.ok(statuses.filter((s) => s === 500).length <= 15);
  const health = await pool.health();
  assert.equal(health.state, 'open');
  assert.ok(health.recent.failures / health.recent.requests >= 0.4);
});

void test('every member open: a fast 503 in the API error format with Retry-After, and no backend is called', async (t) => {
  const pool = await startPool({ backendSection: RETRY_FAILOVER });
  t.after(() => pool.close());
  for (const id of MEMBERS) pool.sims[id].setFault('503', { retryAfterSeconds: 30 });
  const first = await pool.chat();
  await first.arrayBuffer();
  assert.deepEqual(pool.counts(), { 'openai-ptu-eastus': 1, 'openai-payg-westus': 1, 'openai-payg-northeu': 1 }, 'the retry tried each member once');
  pool.resetCounts();
  const started = performance.now();
  const res = await pool.chat();
  const elapsed = performance.now() - started;
  const body = (await res.json()) as { error: { code: string; message: string; request_id: string } };
  assert.equal(res.status, 503);
  assert.equal(body.error.code, 'GW_ERR_BACKEND_UNAVAILABLE');
  assert.match(body.error.message, /openai-backend-pool.*temporarily unavailable/);
  assert.equal(body.error.request_id, res.headers.get('x-request-id'));
  const retryAfter = Number(res.headers.get('retry-after'));
  assert.ok(retryAfter >= 29 && retryAfter <= 30, `Retry-After ${retryAfter}`);
  assert.deepEqual(pool.counts(), { 'openai-ptu-eastus': 0, 'openai-payg-westus': 0, 'openai-payg-northeu': 0 });
  assert.ok(elapsed < 1000, `answered in ${elapsed.toFixed(1)} ms, without waiting on a backend`);
  t.diagnostic(`fast 503 in ${elapsed.toFixed(1)} ms, Retry-After ${retryAfter}`);
});

void test("the seed's load-balancing retry (count 3, exponential back-off) fails a 429 over to another member", async (t) => {
  const waits: number[] = [];
  const seedRetry = `<retry condition="@(context.Response.StatusCode == 429 || context.Response.StatusCode >= 500)" count="3" interval="1" delta="1" max-interval="10" first-fast-retry="true"><forward-request buffer-request-body="true" /></retry>`;
  const pool = await startPool({
    breaker: null,
    backendSection: seedRetry,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
  });
  t.after(() => pool.close());
  pool.sims['openai-ptu-eastus'].setFault('429');
  const res = await pool.chat();
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-sim-name') === 'openai-ptu-eastus', false);
  // Without a breaker the PTU stays in selection (APIM: no failover without breakers), but the
  // retry prefers a member this request has not failed on yet.
  assert.deepEqual(pool.counts()['openai-ptu-eastus'], 1);
  assert.deepEqual(waits, [], 'first-fast-retry: the failover happened at once, without a wait');
  assert.equal(pool.usages.at(-1)?.backend, res.headers.get('x-sim-name'), 'usage names the member that served the request');
});

void test("the seed's load-balancing policy document, verbatim, fails a tripped PTU over to PAYG", async (t) => {
  const waits: number[] = [];
  const seed = readFileSync(new URL('../fixtures/seed-policies/load-balancing.xml', import.meta.url), 'utf8');
  const pool = await startPool({
    policyDocument: `<policies>\n${seed}\n</policies>`,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
  });
  t.after(() => pool.close());
  pool.sims['openai-ptu-eastus'].setFault('429', { retryAfterSeconds: 60 });
  const statuses = await burst(40, 1, () => pool.chat());
  assert.deepEqual(new Set(statuses), new Set([200]));
  assert.deepEqual(pool.counts(), { 'openai-ptu-eastus': 1, 'openai-payg-westus': 30, 'openai-payg-northeu': 10 });
  assert.deepEqual(waits, [], 'first-fast-retry: no wait before the failover');
});

void test('client cancels never trip a breaker', async (t) => {
  const pool = await startPool({ breaker: { rules: [{ failureCondition: { count: 1, interval: 'PT1M', statusCodeRanges: [{ min: 500, max: 599 }] }, tripDuration: 'PT1M' }] } });
  t.after(() => pool.close());
  const ptu = pool.sims['openai-ptu-eastus'];
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      const ac = new AbortController();
      const pending = pool.chat({}, { 'x-sim-latency-ms': '2000' }, ac.signal);
      setTimeout(() => ac.abort(), 100);
      await pending.then(
        (r) => r.arrayBuffer(),
        () => undefined,
      );
    }),
  );
  await waitFor(() => ptu.stats.clientAborts >= 20, 5000, 'the backend to see the cancels');
  const backend = pool.gw.current().backends.get('openai-ptu-eastus')!;
  await waitFor(() => backend.active === 0, 2000, 'cancelled requests to leave the active count');
  const health = await pool.health();
  assert.equal(health.state, 'closed');
  assert.equal(health.recent.failures, 0);
  pool.resetCounts();
  assert.equal((await pool.chat()).status, 200);
  assert.equal(pool.counts()['openai-ptu-eastus'], 1);
});

void test('tollgate status prints each backend circuit, its time left and last trip, and the pool members', async (t) => {
  const pool = await startPool({ backendSection: RETRY_FAILOVER });
  t.after(() => pool.close());
  pool.sims['openai-ptu-eastus'].setFault('429', { retryAfterSeconds: 40 });
  assert.equal((await pool.chat()).status, 200);
  const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;
  const run = promisify(execFile);
  const { stdout } = await run(process.execPath, [main, 'status', '--admin', pool.gw.adminUrl!]);
  const ptuLine = stdout.split('\n').find((l) => l.startsWith('openai-ptu-eastus'));
  const line = /^openai-ptu-eastus\s+open\s+(\d+) s\s+1\/1 \(100\.0%\)\s+1\s+status 429 \(openai-circuit-breaker\)/.exec(ptuLine ?? '');
  assert.ok(line, ptuLine);
  // Time left counts down from Retry-After (40 s) while the CLI starts; a loaded machine can take seconds to spawn it.
  const left = Number(line[1]);
  assert.ok(left <= 40 && left >= 25, `time left ${left} s`);
  assert.match(stdout, /^openai-payg-westus\s+closed\s+-\s+0\/1 \(0\.0%\)/m);
  assert.match(stdout, /pool openai-backend-pool:\n {2}openai-ptu-eastus \(priority 1, weight 1, open\)/);
  const json = JSON.parse((await run(process.execPath, [main, 'status', '--admin', pool.gw.adminUrl!, '--json'])).stdout) as AdminStatus;
  assert.equal(json.backends.find((b) => b.id === 'openai-ptu-eastus')?.health.state, 'open');
  const down = await run(process.execPath, [main, 'status', '--admin', 'http://127.0.0.1:1']).catch((err: { code: number; stderr: string }) => err);
  assert.equal((down as { code: number }).code, 1);
  assert.match((down as { stderr: string }).stderr, /cannot read http:\/\/127\.0\.0\.1:1\/status/);
});

void test('rateLimitHeaders: a member whose x-ratelimit-remaining-tokens runs low is skipped before it answers 429', async (t) => {
  let now = Date.now();
  const pool = await startPool({
    clock: () => now,
    breaker: null,
    simOptions: { 'openai-ptu-eastus': { tpm: 1000 } },
    memberConfig: { 'openai-ptu-eastus': { rateLimitHeaders: { minRemainingTokens: 990, skipMs: 5000 } } },
  });
  t.after(() => pool.close());
  const first = await pool.chat();
  assert.equal(first.headers.get('x-sim-name'), 'openai-ptu-eastus');
  assert.ok(Number(first.headers.get('x-ratelimit-remaining-tokens')) < 990);
  await burst(12, 1, () => pool.chat());
  assert.deepEqual(pool.counts(), { 'openai-ptu-eastus': 1, 'openai-payg-westus': 9, 'openai-payg-northeu': 3 });
  const ptu = await pool.health();
  assert.equal(ptu.state, 'none', 'a skip is not a trip');
  assert.equal(ptu.recent.failures, 0);
  assert.ok(ptu.skippedUntil !== null);
  now += 5001;
  assert.equal((await pool.chat()).headers.get('x-sim-name'), 'openai-ptu-eastus', 'back in selection after skipMs');
});

void test('a full local queue answers 503 at once and never trips the breaker (RELIABILITY C21)', async (t) => {
  const pool = await startPool({
    services: [{ id: 'openai-ptu-eastus', priority: 1, weight: 1 }],
    breaker: { rules: [{ failureCondition: { count: 1, interval: 'PT1M', statusCodeRanges: [{ min: 500, max: 599 }] }, tripDuration: 'PT1M' }] },
    memberConfig: { 'openai-ptu-eastus': { maxConnections: 1, maxPendingRequests: 2 } },
  });
  t.after(() => pool.close());
  const answers = await Promise.all(
    Array.from({ length: 10 }, async () => {
      const res = await pool.chat({}, { 'x-sim-latency-ms': '300' });
      return { status: res.status, body: (await res.json()) as { error?: { code: string } } };
    }),
  );
  const ok = answers.filter((a) => a.status === 200).length;
  const overloaded = answers.filter((a) => a.status === 503 && a.body.error?.code === 'GW_ERR_BACKEND_OVERLOADED').length;
  assert.equal(ok + overloaded, 10);
  assert.ok(ok >= 3 && ok <= 4, `one running and two waiting are served, got ${ok}`);
  assert.equal(pool.counts()['openai-ptu-eastus'], ok, 'refused requests never reached the backend');
  const health = await pool.health();
  assert.equal(health.state, 'closed');
  assert.equal(health.recent.failures, 0);
  const backend = pool.gw.current().backends.get('openai-ptu-eastus')!;
  await waitFor(() => backend.active === 0, 2000, 'every response to end its active count');
});

void test('retry budget: a member failing half its requests costs at most 1.2 upstream attempts per client request (RELIABILITY C18)', async (t) => {
  const breaker = { rules: [{ failureCondition: { percentage: 50, interval: 'PT1M', statusCodeRanges: [{ min: 500, max: 599 }] }, tripDuration: 'PT1M' }] };
  const pool = await startPool({ breaker, backendSection: RETRY_FAILOVER, services: MEMBERS.map((id) => ({ id, priority: 1, weight: 1 })) });
  t.after(() => pool.close());
  pool.sims['openai-ptu-eastus'].setFault('503', { rate: 0.5 });
  const statuses = await burst(600, 8, () => pool.chat());
  assert.equal(statuses.filter((s) => s !== 200).length, 0, 'no client-visible errors');
  for (const b of pool.gw.current().backends.values()) await waitFor(() => b.active === 0, 2000, `${b.id} active count back to 0`);
  const c = pool.counts();
  const attempts = c['openai-ptu-eastus'] + c['openai-payg-westus'] + c['openai-payg-northeu'];
  assert.ok(attempts / 600 <= 1.2, `${attempts} upstream attempts for 600 requests`);
  t.diagnostic(`${attempts} upstream attempts for 600 requests (${(attempts / 600).toFixed(3)}×)`);
});
