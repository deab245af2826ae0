import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isoNow, isoTime } from './iso-time.ts';

test('isoTime is toISOString, every millisecond of a second and across seconds, days, years and eras', () => {
  const starts = [0, -1000, Date.UTC(2026, 11, 31, 23, 59, 59), Date.UTC(1999, 1, 28, 23, 59, 58), Date.UTC(2024, 1, 29, 12), 253402300799000, -62198755200000, 8.64e15 - 2000];
  for (const start of starts) {
    for (let ms = start; ms < start + 2000; ms++) assert.equal(isoTime(ms), new Date(ms).toISOString());
  }
  // Out of order, as different callers could ask.
  for (const ms of [1_796_407_593_123, 5, 1_796_407_593_999, -5, 1_796_407_594_000]) assert.equal(isoTime(ms), new Date(ms).toISOString());
});

test('isoNow is the current time', () => {
  const before = Date.now();
  const t = Date.parse(isoNow());
  assert.ok(t >= before && t <= Date.now());
  assert.match(isoNow(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});
