import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calendarWindow, renewalWindow, slidingWindow, timeSpanText } from './windows.ts';

const iso = (ms: number): string => new Date(ms).toISOString();

test('calendar quota windows are fixed UTC windows; weeks start on Monday', () => {
  const t = Date.UTC(2026, 10, 22, 15, 30); // Sunday 22 Nov 2026, 15:30 UTC
  const w = (p: Parameters<typeof calendarWindow>[0]): [string, string] => {
    const x = calendarWindow(p, t);
    assert.equal(x.kind, 'fixed');
    return x.kind === 'fixed' ? [iso(x.startMs), iso(x.endMs)] : ['', ''];
  };
  assert.deepEqual(w('Hourly'), ['2026-11-22T15:00:00.000Z', '2026-11-22T16:00:00.000Z']);
  assert.deepEqual(w('Daily'), ['2026-11-22T00:00:00.000Z', '2026-11-23T00:00:00.000Z']);
  assert.deepEqual(w('Weekly'), ['2026-11-16T00:00:00.000Z', '2026-11-23T00:00:00.000Z']);
  assert.deepEqual(w('Monthly'), ['2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z']);
  assert.deepEqual(w('Yearly'), ['2026-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z']);
});

test('renewal periods align to their anchor; 0 is one window for ever', () => {
  const anchor = Date.UTC(2026, 0, 1);
  const x = renewalWindow(3600, anchor, anchor + 2.5 * 3600_000);
  assert.deepEqual(x, { kind: 'fixed', startMs: anchor + 2 * 3600_000, endMs: anchor + 3 * 3600_000 });
  const forever = renewalWindow(0, anchor, anchor + 1e12);
  assert.equal(forever.kind === 'fixed' && forever.startMs, anchor);
});

test('sliding windows use 1 s buckets up to a minute, then period/60', () => {
  assert.deepEqual(slidingWindow(60), { kind: 'sliding', windowMs: 60_000, bucketMs: 1000 });
  assert.deepEqual(slidingWindow(300), { kind: 'sliding', windowMs: 300_000, bucketMs: 5000 });
});

test('quota messages print .NET TimeSpan text', () => {
  assert.equal(timeSpanText(25_194_000), '06:59:54');
  assert.equal(timeSpanText(90_061_000), '1.01:01:01');
});
