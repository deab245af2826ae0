import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CRLF2, LF2, eventEnd, lastEventEnd } from './sse-events.ts';

// The separator searches as they were (two Buffer searches each), kept here as the reference.
function referenceEventEnd(data: Buffer, from: number): number {
  const a = data.indexOf(LF2, from);
  const b = data.indexOf(CRLF2, from);
  if (a < 0 && b < 0) return -1;
  return b < 0 || (a >= 0 && a < b) ? a + 2 : b + 4;
}
function referenceLastEventEnd(buf: Buffer): number {
  const a = buf.lastIndexOf(LF2);
  const b = buf.lastIndexOf(CRLF2);
  return Math.max(a < 0 ? 0 : a + 2, b < 0 ? 0 : b + 4);
}

test('event boundaries are found exactly where the two-search reference finds them, LF, CRLF and mixed', () => {
  let seed = 7;
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed >>> 16;
  };
  const alphabet = ['\n', '\r', 'a', ':', '\n', '\r\n'];
  for (let round = 0; round < 20_000; round++) {
    let s = '';
    const len = next() % 24;
    for (let i = 0; i < len; i++) s += alphabet[next() % alphabet.length];
    const buf = Buffer.from(s, 'latin1');
    assert.equal(lastEventEnd(buf), referenceLastEventEnd(buf), JSON.stringify(s));
    for (let from = 0; from <= buf.length; from++) assert.equal(eventEnd(buf, from), referenceEventEnd(buf, from), `${JSON.stringify(s)} from ${from}`);
  }
});

test('a burst of events in one buffer is split in one pass over it', () => {
  const events = Array.from({ length: 50 }, (_, i) => `data: {"i":${i},"usage":null}\n\n`);
  const buf = Buffer.from(events.join(''));
  const ends: number[] = [];
  for (let at = 0; at < buf.length; ) ends.push((at = eventEnd(buf, at)));
  assert.equal(ends.length, 50);
  assert.equal(ends.at(-1), buf.length);
  assert.equal(lastEventEnd(buf), buf.length);
});
