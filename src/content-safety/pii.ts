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
const LOCAL_PART = /[A-Za-z0-9._%+-]/;
const CARD = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g;
const IBAN = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])/g;
const PHONE = /(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,5}){1,4}(?![\w])/g;
const IPV4 = /(?<!\d|\d\.)\d{1,3}(?:\.\d{1,3}){3}(?!\d|\.\d)/g;
const IPV6 = /(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])/g;
/** Text without this has no IPv6 address (two colons with hex between, or "::"): the costly scan is skipped. */
const IPV6_HINT = /[0-9A-Fa-f]:[0-9A-Fa-f]{1,4}:|::/;

export function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export function ibanValid(raw: string): boolean {
  const s = raw.replace(/ /g, '');
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

/** Phone-shaped text that is a phone: 8 to 15 digits (E.164), and a date or a plain number is not. */
function phoneLike(s: string): boolean {
  const n = digitCount(s);
  if (n < 8 || n > 15) return false;
  // A bare run of digits is a phone only with a leading '+' (otherwise an id, an amount, a count).
  if (/^\d+$/.test(s)) return false;
  // ISO dates and times (2024-10-21, 2024-10-21 12) are not phones.
  if (/^\d{4}-\d{2}-\d{2}/.test(s)) return false;
  return true;
}

/** Finds personal data of the given types; overlapping finds keep the first (cards before phones). */
export function findPii(text: string, types: ReadonlySet<PiiType>): PiiMatch[] {
  const found: PiiMatch[] = [];
  const taken = (start: number, end: number): boolean => found.some((m) => start < m.end && end > m.start);
  const scan = (re: RegExp, type: PiiType, valid: (s: string) => boolean): void => {
    if (!types.has(type)) return;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const s = m[0];
      const start = m.index;
      if (!taken(start, start + s.length) && valid(s)) found.push({ type, start, end: start + s.length });
    }
  };
  // Cheap pre-checks: no '@', no e-mail; no digit, no card, phone, IBAN or IPv4.
  if (types.has('email')) findEmails(text, found);
  if (/\d/.test(text)) {
    scan(CARD, 'card', (s) => {
      const d = s.replace(/[ -]/g, '');
      return d.length >= 13 && d.length <= 19 && luhn(d);
    });
    scan(IBAN, 'iban', ibanValid);
    scan(IPV4, 'ip', (s) => isIPv4(s));
    scan(PHONE, 'phone', phoneLike);
  }
  if (text.includes(':') && IPV6_HINT.test(text)) scan(IPV6, 'ip', (s) => s.length >= 3 && isIPv6(s) && s.includes('::') !== /^:+$/.test(s));
  return found.sort((a, b) => a.start - b.start);
}

/**
 * E-mail addresses, found from each '@' outwards: a regular expression that starts at every
 * position would re-read up to 64 characters of would-be local part at each one.
 */
function findEmails(text: string, out: PiiMatch[]): void {
  for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > 0 && at - start < 64 && LOCAL_PART.test(text.charAt(start - 1))) start--;
    if (start === at || (start > 0 && LOCAL_PART.test(text.charAt(start - 1)))) continue;
    EMAIL_DOMAIN.lastIndex = at + 1;
    const m = EMAIL_DOMAIN.exec(text);
    if (m !== null) out.push({ type: 'email', start, end: at + 1 + m[0].length });
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
