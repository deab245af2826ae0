/**
 * The current time as ISO 8601 UTC (`Date.prototype.toISOString`'s exact text), for the usage
 * record every request publishes. `new Date().toISOString()` costs about 0.8 µs (V8 splits the
 * time into calendar fields on every call); within one second only the milliseconds change, so
 * the text up to them is kept and reused: about 0.09 µs.
 * @module
 */

let second = Number.NaN;
/** `toISOString()` of `second`'s start without its `mmmZ` (`2026-12-04T18:06:33.`). */
let prefix = '';

/** `new Date(ms).toISOString()` for an integer `ms` (as `Date.now()` returns). */
export function isoTime(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s !== second) {
    prefix = new Date(s * 1000).toISOString().slice(0, -4);
    second = s;
  }
  const milli = ms - s * 1000;
  return prefix + (milli < 10 ? '00' : milli < 100 ? '0' : '') + String(milli) + 'Z';
}

/** The current time as `new Date().toISOString()` has it. */
export function isoNow(): string {
  return isoTime(Date.now());
}
