/** Personal-data detection and redaction of the local engine, and the text windows of every engine. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIPv4 } from 'node:net';
import { findPii, ibanValid, IPV4, luhn, PII_TYPES, redactPii } from './pii.ts';
import { generatedTexts } from './test-support.ts';
import { windows } from './text.ts';

const ALL = new Set(PII_TYPES);
const kinds = (text: string): string[] => findPii(text, ALL).map((m) => m.type);

test('each kind of personal data is found and redacted; validated kinds need a valid checksum', () => {
  assert.deepEqual(kinds('write to a.b-c+d@mail.example.co.uk today'), ['email']);
  assert.deepEqual(kinds('call +1 (415) 555-0132 or 020 7946 0958'), ['phone', 'phone']);
  assert.deepEqual(kinds('visa 4111111111111111, amex 3782 822463 10005'), ['card', 'card']);
  assert.deepEqual(kinds('not a card 4111111111111112'), [], 'fails Luhn');
  assert.deepEqual(kinds('pay DE89 3704 0044 0532 0130 00 now'), ['iban']);
  assert.deepEqual(kinds('bad DE88 3704 0044 0532 0130 00'), [], 'fails mod 97');
  assert.deepEqual(kinds('hosts 192.168.0.1, fe80::1ff:fe23:4567:890a and ::1'), ['ip', 'ip', 'ip']);
  assert.equal(redactPii('mail x@y.io, host 10.0.0.1.', findPii('mail x@y.io, host 10.0.0.1.', ALL)), 'mail [EMAIL_REDACTED], host [IP_REDACTED].');
  assert.ok(luhn('79927398713') && !luhn('79927398710'));
  assert.ok(ibanValid('GB82WEST12345698765432') && !ibanValid('GB82WEST12345698765433'));
});

test('ordinary numbers are not personal data: dates, times, versions, amounts, order numbers, ratios', () => {
  for (const text of ['on 2024-10-21 at 12:30', 'version 1.2.3.4000 and 10.5', 'we sold 1234567890 units', 'order 12345678', 'ratio 3:4 and 16:9', 'pi is 3.14159265358979', 'call me maybe', 'x = a::b::c']) {
    assert.deepEqual(kinds(text), [], text);
  }
});

test('only the configured kinds are looked for', () => {
  assert.deepEqual(findPii('a@b.io 10.0.0.1', new Set(['ip'] as const)).map((m) => m.type), ['ip']);
});

test('the IPv4 scan, skipped when no dot has a digit on both sides, finds what the expression alone finds', () => {
  for (const s of generatedTexts(4, '0123456789012345....  -x1.2.3.4', 50_000, 24)) {
    const expected = [...s.matchAll(new RegExp(IPV4.source, 'g'))].filter((m) => isIPv4(m[0])).map((m) => [m.index, m.index + m[0].length]);
    assert.deepEqual(findPii(s, new Set(['ip'] as const)).map((m) => [m.start, m.end]), expected, JSON.stringify(s));
  }
});

test('windows split at the size, overlap by the given characters, and never split a surrogate pair', () => {
  assert.deepEqual(windows('abcdefghij', 4), ['abcd', 'efgh', 'ij']);
  assert.deepEqual(windows('abcdefghij', 4, 1), ['abcd', 'defg', 'ghij']);
  assert.deepEqual(windows('', 4), []);
  const emoji = 'ab😀cd';
  for (const w of windows(emoji, 3)) assert.ok(!/[\ud800-\udbff]$/.test(w) && !/^[\udc00-\udfff]/.test(w), JSON.stringify(w));
  assert.equal(windows(emoji, 3).join(''), emoji);
  const long = 'x'.repeat(25_001);
  assert.deepEqual(windows(long, 10_000).map((w) => w.length), [10_000, 10_000, 5001]);
});
