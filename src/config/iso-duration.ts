/**
 * ISO-8601 durations (`PT1M`, `PT30S`, `P1D`) as APIM's Bicep properties write them
 * (circuit breaker `interval` and `tripDuration`), converted to milliseconds.
 * @module
 */
import { parse } from 'tinyduration';
import { z } from 'zod';

const MS = { weeks: 604_800_000, days: 86_400_000, hours: 3_600_000, minutes: 60_000, seconds: 1000 } as const;

/**
 * Milliseconds in an ISO-8601 duration, or an error message. Years and months have no fixed
 * length, so they are refused rather than guessed.
 */
export function isoDurationMs(text: string): number | string {
  let d;
  try {
    d = parse(text);
  } catch {
    return `"${text}" is not an ISO-8601 duration (e.g. PT30S, PT1M, PT1H, P1D)`;
  }
  if (d.negative === true) return 'a duration must not be negative';
  if ((d.years ?? 0) !== 0 || (d.months ?? 0) !== 0) return 'years and months have no fixed length; use days (P30D)';
  let ms = 0;
  for (const [unit, factor] of Object.entries(MS)) ms += (d[unit as keyof typeof MS] ?? 0) * factor;
  return Math.round(ms);
}

/** A zod string holding an ISO-8601 duration from `min` to `max` milliseconds; outputs milliseconds. */
export function isoDuration(minMs: number, maxMs: number) {
  return z.string().transform((text, ctx) => {
    const ms = isoDurationMs(text);
    if (typeof ms === 'string') {
      ctx.addIssue({ code: 'custom', message: ms });
      return z.NEVER;
    }
    if (ms < minMs || ms > maxMs) {
      ctx.addIssue({ code: 'custom', message: `must be from ${minMs / 1000} s to ${maxMs / 1000} s, got ${ms / 1000} s` });
      return z.NEVER;
    }
    return ms;
  });
}
