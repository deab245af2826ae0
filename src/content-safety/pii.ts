/**
 * Personal data the local engine finds in prompt text, and its redaction: e-mail addresses,
 * phone numbers, payment card numbers (Luhn-checked), IBANs (ISO 13616 mod-97 checked) and IPv4 /
 * IPv6 addresses. Candidates come from bounded regular expressions (no nested unbounded
 * quantifiers, so matching is linear) and are then validated, which keeps order numbers, dates
 * and version strings from being taken for cards or phones.
 * @module
 */
import { isIPv4, isIPv6 } from 'node:net';

export const PII_TYPES = ['email', 'phone', 'card', 'iban', 'ip'] as const;
export type PiiType = (typeof PII_TYPES)[number];

export interface PiiMatch {
  readonly type: PiiType;
  readonly start: number;
  readonly end: number;
}

/** What a redacted value becomes (the type stays visible to the model, the value does not). */
export const REDACTION: Readonly<Record<PiiType, string>> = {
  email: '[EMAIL_REDACTED]',
  phone: '[PHONE_REDACTED]',
  card: '[CARD_REDACTED]',
  iban: '[IBAN_REDACTED]',
  ip: '[IP_REDACTED]',
};

/** An e-mail's domain, matched from just after its '@' (sticky). */
const EMAIL_DOMAIN = /[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z0-9-])/y;
const CARD = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g;
const IBAN = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])/g;
const PHONE = /(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,5}){1,4}(?![\w])/g;
/** Exported for the test that compares the pre-checked scan with this expression alone. */
export const IPV4 = /(?<!\d|\d\.)\d{1,3}(?:\.\d{1,3}){3}(?!\d|\.\d)/g;
const IPV6 = /(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])/g;
/**
 * Whether the text may hold an IPv6 address: a colon with a hex digit on both sides, or "::"
 * (an address without "::" has eight groups, so both). Otherwise the costly scan is skipped.
 * Prompts have few colons ("Note:", "https://"): `indexOf` finds them, a regular expression
 * (`/[0-9A-Fa-f]:[0-9A-Fa-f]{1,4}:|::/`, a stricter test) read the whole text (0.40 against 0.03 µs).
 */
function mayHoldIPv6(text: string): boolean {
  for (let k = text.indexOf(':'); k >= 0; k = text.indexOf(':', k + 1)) {
    const next = text.charCodeAt(k + 1);
    if (next === 58 || (k > 0 && isHex(text.charCodeAt(k - 1)) && isHex(next))) return true;
  }
  return false;
}

/**
 * Whether the text may hold an IPv4 address from `from` on: every one has a '.' with a digit on
 * both sides ("1.2"), and prose has few dots, found by `indexOf` (0.0x µs) where the scan reads the
 * whole text from the first digit.
 */
function mayHoldIPv4(text: string, from: number): boolean {
  for (let k = text.indexOf('.', from); k >= 0; k = text.indexOf('.', k + 1)) {
    if (isDigit(text.charCodeAt(k - 1)) && isDigit(text.charCodeAt(k + 1))) return true;
  }
  return false;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 102);
}

/** The Luhn checksum over the digits of `s`; anything else (a card's ' ' or '-') is skipped, not copied out. */
export function luhn(s: string): boolean {
  let n = 0;
  let sum = 0;
  for (let i = s.length - 1; i >= 0; i--) {
    let d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) continue;
    if (n % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    n++;
  }
  return sum % 10 === 0;
}

const SPACES = / /g;

export function ibanValid(raw: string): boolean {
  const s = raw.includes(' ') ? raw.replace(SPACES, '') : raw;
  if (s.length < 15 || s.length > 34) return false;
  const moved = s.slice(4) + s.slice(0, 4);
  let rem = 0;
  for (const ch of moved) {
    const code = ch.charCodeAt(0);
    const v = code >= 65 ? String(code - 55) : ch;
    for (const digit of v) rem = (rem * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return rem === 1;
}

function digitCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) n++;
  return n;
}

// Module constants: a regular expression literal inside a function is a new object per call.
const ALL_DIGITS = /^\d+$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}/;

/** Phone-shaped text that is a phone: 8 to 15 digits (E.164), and a date or a plain number is not. */
function phoneLike(s: string): boolean {
  const n = digitCount(s);
  if (n < 8 || n > 15) return false;
  // A bare run of digits is a phone only with a leading '+' (otherwise an id, an amount, a count).
  // ISO dates and times (2024-10-21, 2024-10-21 12) are not phones.
  return !ALL_DIGITS.test(s) && !ISO_DATE.test(s);
}

/** Finds personal data of the given types; overlapping finds keep the first (cards before phones). */
export function findPii(text: string, types: ReadonlySet<PiiType>): PiiMatch[] {
  const found: PiiMatch[] = [];
  if (types.has('email')) findEmails(text, found);
  // No digit: no card, phone, IBAN or IPv4. Every match of those has a digit within its first
  // three characters (an IBAN's country letters, a phone's '+' or '('), so each scan starts just
  // before the first digit: the same matches, without reading the text before it four times.
  const digit = text.search(DIGIT);
  if (digit >= 0) {
    if (types.has('card')) scan(text, CARD, digit, 'card', cardValid, found);
    if (types.has('iban')) scan(text, IBAN, Math.max(0, digit - 2), 'iban', ibanValid, found);
    if (types.has('ip') && mayHoldIPv4(text, digit)) scan(text, IPV4, digit, 'ip', isIPv4, found);
    if (types.has('phone')) scan(text, PHONE, Math.max(0, digit - 1), 'phone', phoneLike, found);
  }
  if (types.has('ip') && mayHoldIPv6(text)) scan(text, IPV6, 0, 'ip', ipv6Valid, found);
  return found;
}

const DIGIT = /\d/;

/** Keeps `found` in text order as it grows (a handful of entries: no sort and its scratch arrays per call). */
function add(found: PiiMatch[], m: PiiMatch): void {
  let i = found.length;
  found.push(m);
  for (; i > 0 && (found[i - 1] as PiiMatch).start > m.start; i--) found[i] = found[i - 1] as PiiMatch;
  found[i] = m;
}

/** Candidates of one kind from `from` on, validated; one that overlaps an earlier find is skipped. */
function scan(text: string, re: RegExp, from: number, type: PiiType, valid: (s: string) => boolean, found: PiiMatch[]): void {
  re.lastIndex = from;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const s = m[0];
    const start = m.index;
    if (!overlaps(found, start, start + s.length) && valid(s)) add(found, { type, start, end: start + s.length });
  }
}

function overlaps(found: readonly PiiMatch[], start: number, end: number): boolean {
  for (const m of found) if (start < m.end && end > m.start) return true;
  return false;
}

/** 13 to 19 digits (separators skipped) with a valid Luhn checksum. */
function cardValid(s: string): boolean {
  const n = digitCount(s);
  return n >= 13 && n <= 19 && luhn(s);
}

const ONLY_COLONS = /^:+$/;

function ipv6Valid(s: string): boolean {
  return s.length >= 3 && isIPv6(s) && s.includes('::') !== ONLY_COLONS.test(s);
}

/** A character an e-mail's local part may have (A-Z a-z 0-9 . _ % + -). */
function localPartChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
}

/**
 * E-mail addresses, found from each '@' outwards: a regular expression that starts at every
 * position would re-read up to 64 characters of would-be local part at each one.
 */
function findEmails(text: string, out: PiiMatch[]): void {
  for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > 0 && at - start < 64 && localPartChar(text.charCodeAt(start - 1))) start--;
    if (start === at || (start > 0 && localPartChar(text.charCodeAt(start - 1)))) continue;
    // Sticky: a match starts at the '@' + 1 and ends at lastIndex (`test` makes no match array).
    EMAIL_DOMAIN.lastIndex = at + 1;
    if (EMAIL_DOMAIN.test(text)) add(out, { type: 'email', start, end: EMAIL_DOMAIN.lastIndex });
  }
}

/** `text` with every match replaced by its type's placeholder. */
export function redactPii(text: string, matches: readonly PiiMatch[]): string {
  if (matches.length === 0) return text;
  let out = '';
  let at = 0;
  for (const m of matches) {
    out += text.slice(at, m.start) + REDACTION[m.type];
    at = m.end;
  }
  return out + text.slice(at);
}
