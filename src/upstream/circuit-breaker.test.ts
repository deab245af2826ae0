import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreaker, MIN_REQUESTS_FOR_PERCENTAGE, type Outcome } from './circuit-breaker.ts';
import type { CircuitBreakerRule } from '../config/schema.ts';

const MIN = 60_000;
const s500: Outcome = { kind: 'status', status: 500 };
const s200: Outcome = { kind: 'status', status: 200 };

function rule(over: Partial<CircuitBreakerRule['failureCondition']> = {}, rest: Partial<CircuitBreakerRule> = {}): CircuitBreakerRule {
  return {
    failureCondition: { count: 5, interval: MIN, statusCodeRanges: [{ min: 429, max: 429 }, { min: 500, max: 599 }], ...over },
    tripDuration: MIN,
    acceptRetryAfter: false,
    ...rest,
  };
}

void test('a count rule trips on the count-th failure within the interval, not before', () => {
  const b = new CircuitBreaker([rule()], 10_000);
  for (let i = 0; i < 4; i++) b.record(1000 + i, s500, 'normal');
  assert.equal(b.state(1010), 'closed');
  b.record(1011, s500, 'normal');
  assert.equal(b.state(1012), 'open');
  assert.equal(b.admit(1012), null);
  assert.equal(b.lastTrip?.reason, 'status 500');
  assert.equal(b.waitMs(1011), MIN);
});

void test('failures older than the interval do not count toward a trip', () => {
  const b = new CircuitBreaker([rule()], 10_000);
  for (let i = 0; i < 4; i++) b.record(i, s500, 'normal');
  b.record(MIN + 10_000, s500, 'normal');
  assert.equal(b.state(MIN + 10_001), 'closed');
});

void test('statuses outside statusCodeRanges and successes never trip', () => {
  const b = new CircuitBreaker([rule({ count: 1 })], 10_000);
  for (const status of [200, 201, 400, 404, 499]) b.record(1, { kind: 'status', status }, 'normal');
  assert.equal(b.state(2), 'closed');
});

void test('errorReasons: omitted counts every transport failure; a list counts only those', () => {
  const all = new CircuitBreaker([rule({ count: 3 })], 10_000);
  for (const reason of ['connection', 'timeout', 'stream'] as const) all.record(1, { kind: 'error', reason }, 'normal');
  assert.equal(all.state(2), 'open');
  const onlyTimeout = new CircuitBreaker([rule({ count: 1, errorReasons: ['timeout'] })], 10_000);
  onlyTimeout.record(1, { kind: 'error', reason: 'connection' }, 'normal');
  onlyTimeout.record(1, { kind: 'error', reason: 'stream' }, 'normal');
  assert.equal(onlyTimeout.state(2), 'closed');
  onlyTimeout.record(3, { kind: 'error', reason: 'timeout' }, 'normal');
  assert.equal(onlyTimeout.state(4), 'open');
});

void test('a percentage rule waits for enough requests, then trips at the share of failures', () => {
  const b = new CircuitBreaker([rule({ count: undefined, percentage: 50 })], 10_000);
  for (let i = 0; i < MIN_REQUESTS_FOR_PERCENTAGE - 1; i++) b.record(1, s500, 'normal');
  assert.equal(b.state(2), 'closed', 'nine failures are too few requests to judge');
  const c = new CircuitBreaker([rule({ count: undefined, percentage: 50 })], 10_000);
  for (let i = 0; i < 6; i++) c.record(1, s200, 'normal');
  for (let i = 0; i < 5; i++) c.record(1, s500, 'normal');
  assert.equal(c.state(2), 'closed', '5 of 11 is under 50%');
  c.record(1, s500, 'normal');
  assert.equal(c.state(2), 'open', '6 of 12 is 50%');
});

void test('count and percentage together: both must hold', () => {
  const b = new CircuitBreaker([rule({ count: 3, percentage: 50 })], 10_000);
  for (let i = 0; i < 10; i++) b.record(1, s200, 'normal');
  for (let i = 0; i < 9; i++) b.record(1, s500, 'normal');
  assert.equal(b.state(2), 'closed', '9 failures of 19 is under 50%');
  b.record(1, s500, 'normal');
  assert.equal(b.state(2), 'open');
});

void test('acceptRetryAfter opens for the response Retry-After instead of tripDuration (capped at a day)', () => {
  const b = new CircuitBreaker([rule({ count: 1 }, { acceptRetryAfter: true })], 10_000);
  b.record(0, { kind: 'status', status: 429, retryAfterMs: 2000 }, 'normal');
  assert.equal(b.openUntil, 2000);
  const ignoring = new CircuitBreaker([rule({ count: 1 })], 10_000);
  ignoring.record(0, { kind: 'status', status: 429, retryAfterMs: 2000 }, 'normal');
  assert.equal(ignoring.openUntil, MIN);
  const huge = new CircuitBreaker([rule({ count: 1 }, { acceptRetryAfter: true })], 10_000);
  huge.record(0, { kind: 'status', status: 429, retryAfterMs: 30 * 86_400_000 }, 'normal');
  assert.equal(huge.openUntil, 86_400_000);
});

void test('half-open: after the trip one probe goes through; its success closes the circuit', () => {
  const events: string[] = [];
  const b = new CircuitBreaker([rule({ count: 1 })], 10_000, { opened: () => events.push('open'), closed: () => events.push('closed') });
  b.record(0, s500, 'normal');
  assert.equal(b.admit(MIN - 1), null);
  assert.equal(b.state(MIN), 'half-open');
  assert.equal(b.admit(MIN), 'probe');
  assert.equal(b.admit(MIN + 1), null, 'only one probe at a time');
  b.record(MIN + 5, s200, 'probe');
  assert.equal(b.state(MIN + 6), 'closed');
  assert.equal(b.admit(MIN + 6), 'normal');
  assert.deepEqual(events, ['open', 'closed']);
});

void test('half-open: a failed probe opens the circuit again for another trip duration', () => {
  const b = new CircuitBreaker([rule({ count: 1 })], 10_000);
  b.record(0, s500, 'normal');
  assert.equal(b.admit(MIN), 'probe');
  b.record(MIN + 5, s500, 'probe');
  assert.equal(b.state(MIN + 6), 'open');
  assert.equal(b.openUntil, 2 * MIN + 5);
  assert.equal(b.trips, 2);
});

void test('a cancelled probe frees the slot; a lost probe frees it after the probe timeout', () => {
  const b = new CircuitBreaker([rule({ count: 1 })], 10_000);
  b.record(0, s500, 'normal');
  assert.equal(b.admit(MIN), 'probe');
  b.release('probe');
  assert.equal(b.admit(MIN + 1), 'probe');
  assert.equal(b.admit(MIN + 2), null);
  assert.equal(b.waitMs(MIN + 2), 10_000 - 1);
  assert.equal(b.admit(MIN + 1 + 10_000), 'probe');
});

void test('answers to requests sent before the trip do not extend it', () => {
  const b = new CircuitBreaker([rule({ count: 1 })], 10_000);
  b.record(0, s500, 'normal');
  b.record(30_000, s500, 'normal');
  assert.equal(b.openUntil, MIN);
});

void test('a peer trip opens the circuit until the shared time, never shortening a longer local one', () => {
  const b = new CircuitBreaker([rule({ count: 1 })], 10_000);
  b.openFromPeer(0, 5000, 'status 429');
  assert.equal(b.state(1), 'open');
  assert.equal(b.lastTrip?.rule, 'shared');
  b.record(10, s500, 'normal');
  b.openFromPeer(20, 3000, 'status 429');
  assert.equal(b.openUntil, 5000);
});
