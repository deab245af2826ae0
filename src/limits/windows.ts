/**
 * Quota windows: fixed calendar windows in UTC (APIM's token-quota-period), and renewal periods
 * aligned to a start time (quota-by-key's renewal-period + first-period-start).
 * @module
 */
import type { WindowSpec } from '../state/limit-store.ts';

export type QuotaPeriod = 'Hourly' | 'Daily' | 'Weekly' | 'Monthly' | 'Yearly';
type FixedWindow = Extract<WindowSpec, { kind: 'fixed' }>;

/** The last window built per period: requests of one period share it until the period rolls over. */
const currentCalendar = new Map<QuotaPeriod, FixedWindow>();

/** The [start, end) window of `period` containing `now` (UTC; weeks start on Monday 00:00). */
export function calendarWindow(period: QuotaPeriod, now: number): WindowSpec {
  const last = currentCalendar.get(period);
  if (last !== undefined && now >= last.startMs && now < last.endMs) return last;
  const spec = buildCalendarWindow(period, now);
  currentCalendar.set(period, spec);
  return spec;
}

function buildCalendarWindow(period: QuotaPeriod, now: number): FixedWindow {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const day = d.getUTCDate();
  let start: number;
  let end: number;
  switch (period) {
    case 'Hourly':
      start = Date.UTC(y, m, day, d.getUTCHours());
      end = start + 3_600_000;
      break;
    case 'Daily':
      start = Date.UTC(y, m, day);
      end = Date.UTC(y, m, day + 1);
      break;
    case 'Weekly': {
      const sinceMonday = (d.getUTCDay() + 6) % 7;
      start = Date.UTC(y, m, day - sinceMonday);
      end = Date.UTC(y, m, day - sinceMonday + 7);
      break;
    }
    case 'Monthly':
      start = Date.UTC(y, m, 1);
      end = Date.UTC(y, m + 1, 1);
      break;
    case 'Yearly':
      start = Date.UTC(y, 0, 1);
      end = Date.UTC(y + 1, 0, 1);
      break;
  }
  return { kind: 'fixed', startMs: start, endMs: end };
}

/** A renewal period of `seconds` aligned to `anchorMs`; 0 seconds = one window for ever. */
export function renewalWindow(seconds: number, anchorMs: number, now: number): WindowSpec {
  if (seconds === 0) return { kind: 'fixed', startMs: anchorMs, endMs: 8_640_000_000_000_000 };
  const len = seconds * 1000;
  const start = anchorMs + Math.floor((now - anchorMs) / len) * len;
  return { kind: 'fixed', startMs: start, endMs: start + len };
}

/** Specs are immutable (shared by every request that uses them): the few distinct periods a
 *  configuration uses are built once. */
const slidingSpecs = new Map<number, WindowSpec>();
const MAX_CACHED_SPECS = 256;

/** A sliding window of `seconds`, in buckets of 1 s (or period/60 for long periods). */
export function slidingWindow(seconds: number): WindowSpec {
  let spec = slidingSpecs.get(seconds);
  if (spec !== undefined) return spec;
  const windowMs = seconds * 1000;
  spec = { kind: 'sliding', windowMs, bucketMs: Math.max(1000, Math.floor(windowMs / 60 / 1000) * 1000) };
  // Periods may come from expressions; past the cap they are built per call instead of cached.
  if (slidingSpecs.size < MAX_CACHED_SPECS) slidingSpecs.set(seconds, spec);
  return spec;
}

/** .NET TimeSpan text as APIM prints it in quota messages: `hh:mm:ss` or `d.hh:mm:ss`. */
export function timeSpanText(ms: number): string {
  const total = Math.ceil(ms / 1000);
  const days = Math.floor(total / 86400);
  const hh = String(Math.floor((total % 86400) / 3600)).padStart(2, '0');
  const mm = String(Math.floor((total % 3600) / 60)).padStart(2, '0');
  const ss = String(total % 60).padStart(2, '0');
  return `${days > 0 ? `${days}.` : ''}${hh}:${mm}:${ss}`;
}
