/**
 * Backend pools and circuit breakers in tollgate.yaml: the Bicep shapes load, and every mistake
 * is reported at its line and column.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfigText, type ConfigIssue } from './load.ts';
import { isoDurationMs } from './iso-duration.ts';

const POOL = `backends:
  openai-ptu-eastus:
    url: http://127.0.0.1:9001/openai
    circuitBreaker:
      rules:
        - name: openai-circuit-breaker
          failureCondition: { count: 5, interval: PT1M, statusCodeRanges: [{ min: 429, max: 429 }, { min: 500, max: 599 }], errorReasons: [Server errors] }
          tripDuration: PT1M
          acceptRetryAfter: true
  openai-payg-westus:  { url: http://127.0.0.1:9002/openai }
  openai-payg-northeu: { url: http://127.0.0.1:9003/openai }
  openai-backend-pool:
    type: Pool
    pool:
      services:
        - { id: /subscriptions/x/resourceGroups/y/providers/Microsoft.ApiManagement/service/z/backends/openai-ptu-eastus, priority: 1, weight: 1 }
        - { id: openai-payg-westus,  priority: 2, weight: 3 }
        - { id: openai-payg-northeu, priority: 2 }
`;

function issues(text: string): string[] {
  try {
    loadConfigText(text, 'tollgate.yaml', {});
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.issues.map((i: ConfigIssue) => `${i.line}:${i.col} ${i.path} | ${i.message}`);
  }
  assert.fail('expected a ConfigError');
}

void test("the seeds' pool and breaker load: ARM ids shortened to backend names, durations in ms, defaults filled in", () => {
  const { config } = loadConfigText(POOL, 'tollgate.yaml', {});
  const pool = config.backends['openai-backend-pool'];
  assert.equal(pool?.type, 'Pool');
  assert.deepEqual(pool?.pool?.services, [
    { id: 'openai-ptu-eastus', priority: 1, weight: 1 },
    { id: 'openai-payg-westus', priority: 2, weight: 3 },
    { id: 'openai-payg-northeu', priority: 2, weight: 1 },
  ]);
  const rule = config.backends['openai-ptu-eastus']?.circuitBreaker?.rules[0];
  assert.equal(rule?.tripDuration, 60_000);
  assert.equal(rule?.failureCondition.interval, 60_000);
  assert.deepEqual(rule?.failureCondition.errorReasons, ['connection', 'timeout', 'stream']);
});

void test('a pool with a url is refused as APIM refuses it', () => {
  assert.deepEqual(issues(POOL.replace('    type: Pool\n', '    type: Pool\n    url: http://127.0.0.1:9004\n')), [
    '14:10 backends.openai-backend-pool.url | Url is not supported for backend pool',
  ]);
});

void test('pool members must exist, be single backends, and be listed once', () => {
  const text = `${POOL}  nested:
    type: Pool
    pool:
      services:
        - { id: openai-backend-pool }
        - { id: ghost }
        - { id: openai-payg-westus }
        - { id: openai-payg-westus }
`;
  assert.deepEqual(issues(text), [
    '23:17 backends.nested.pool.services.0.id | backend "openai-backend-pool" is a pool; a pool\'s members must be single backends',
    '24:17 backends.nested.pool.services.1.id | backend "ghost" is not defined under backends',
    '26:17 backends.nested.pool.services.3.id | backend "openai-payg-westus" is listed twice in this pool',
  ]);
});

void test('bad breaker fields are reported where they are written', () => {
  const text = POOL.replace('tripDuration: PT1M', 'tripDuration: 1 minute').replace('errorReasons: [Server errors]', 'errorReasons: [meltdown]').replace('count: 5, ', '');
  assert.deepEqual(issues(text), [
    '7:130 backends.openai-ptu-eastus.circuitBreaker.rules.0.failureCondition.errorReasons.0 | unknown error reason "meltdown" (known: connection, timeout, stream, "Server errors" for all three)',
    '8:25 backends.openai-ptu-eastus.circuitBreaker.rules.0.tripDuration | "1 minute" is not an ISO-8601 duration (e.g. PT30S, PT1M, PT1H, P1D)',
  ]);
});

void test('a failure condition needs count or percentage; weights and priorities stay within 0-100', () => {
  const noCount = issues(POOL.replace('count: 5, ', ''));
  assert.equal(noCount.length, 1);
  assert.match(noCount[0] ?? '', /^7:\d+ backends\.openai-ptu-eastus\.circuitBreaker\.rules\.0\.failureCondition \| needs count or percentage/);
  assert.match(issues(POOL.replace('weight: 3', 'weight: 300')).join('\n'), /services\.1\.weight/);
});

void test('a single backend needs a url, and only a pool may have pool.services', () => {
  assert.deepEqual(issues('backends:\n  b: { description: nothing }\n'), ['2:6 backends.b.url | a backend needs a url (or type: Pool with pool.services)']);
  assert.deepEqual(issues('backends:\n  b: { url: http://127.0.0.1:1, pool: { services: [{ id: b }] } }\n'), ['2:39 backends.b.pool | pool is only for backends of type Pool']);
});

void test('ISO-8601 durations: weeks, days, hours, minutes and fractional seconds; no years or months', () => {
  assert.equal(isoDurationMs('PT30S'), 30_000);
  assert.equal(isoDurationMs('PT1M'), 60_000);
  assert.equal(isoDurationMs('P1DT1H'), 90_000_000);
  assert.equal(isoDurationMs('PT0.5S'), 500);
  assert.equal(isoDurationMs('P1W'), 604_800_000);
  assert.match(String(isoDurationMs('P1M')), /no fixed length/);
  assert.match(String(isoDurationMs('60s')), /not an ISO-8601 duration/);
});
