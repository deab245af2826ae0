/**
 * DateTime, TimeSpan and Guid as C# values, with .NET's invariant-culture formats. The gateway
 * runs in UTC terms: `DateTime.Now` is UTC with Kind=Local (offset +00:00), as on an APIM host.
 * A DateTime keeps whole Unix milliseconds plus 100-ns ticks within the millisecond, because
 * .NET's tick count (~6e17) does not fit a double exactly.
 * @module
 */
import { argError, formatError, outOfRange } from './errors.ts';
import { Host } from './values.ts';

/** Milliseconds from 0001-01-01 to 1970-01-01. */
const EPOCH_OFFSET_MS = 62135596800000;
const MIN_MS = -EPOCH_OFFSET_MS;
const MAX_MS = 253402300799999;
export const TICKS_PER_MS = 10_000;

export type DateKind = 'Utc' | 'Local' | 'Unspecified';

export class CsDateTime extends Host {
  readonly ms: number;
  readonly sub: number;
  readonly dkind: DateKind;
  /** A DateTimeOffset (always at offset +00:00 here). */
  readonly isOffset: boolean;

  constructor(ms: number, sub: number, dkind: DateKind, isOffset = false) {
    super();
    if (!(ms >= MIN_MS && ms <= MAX_MS)) throw outOfRange('value');
    this.ms = ms;
    this.sub = sub;
    this.dkind = dkind;
    this.isOffset = isOffset;
  }
  /** From (fractional) Unix milliseconds. */
  static fromMs(msFloat: number, dkind: DateKind, isOffset = false): CsDateTime {
    const ms = Math.floor(msFloat);
    return new CsDateTime(ms, Math.min(9999, Math.round((msFloat - ms) * TICKS_PER_MS)), dkind, isOffset);
  }
  get kind(): string {
    return this.isOffset ? 'System.DateTimeOffset' : 'System.DateTime';
  }
  /** 100-ns ticks since 0001-01-01 (approximate beyond 2^53, like every long here). */
  get ticks(): number {
    // Through BigInt so the result is the double nearest the exact tick count.
    return Number(BigInt(this.ms + EPOCH_OFFSET_MS) * 10000n + BigInt(this.sub));
  }
  addTicks(t: number): CsDateTime {
    const total = this.sub + Math.round(t);
    const carry = Math.floor(total / TICKS_PER_MS);
    return new CsDateTime(this.ms + carry, total - carry * TICKS_PER_MS, this.dkind, this.isOffset);
  }
  addMonths(n: number): CsDateTime {
    const d = new Date(this.ms);
    const months = d.getUTCFullYear() * 12 + d.getUTCMonth() + Math.trunc(n);
    const y = Math.floor(months / 12);
    const m = months - y * 12;
    const day = Math.min(d.getUTCDate(), daysInMonth(y, m));
    const ms = utc(y, m, day) + (this.ms - utc(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
    return new CsDateTime(ms, this.sub, this.dkind, this.isOffset);
  }
  withKind(dkind: DateKind): CsDateTime {
    return new CsDateTime(this.ms, this.sub, dkind, this.isOffset);
  }
  compare(o: CsDateTime): number {
    return this.ms - o.ms || this.sub - o.sub;
  }
  override toCs(): string {
    return formatDate(this, this.isOffset ? 'MM/dd/yyyy HH:mm:ss zzz' : 'G');
  }
  override formatWith(fmt: string): string {
    return formatDate(this, fmt);
  }
}

function utc(y: number, m: number, d: number): number {
  const date = new Date(0);
  date.setUTCFullYear(y, m, d);
  return date.getTime();
}

function daysInMonth(y: number, m: number): number {
  return new Date(utc(y, m + 1, 0)).getUTCDate();
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const STANDARD: Readonly<Record<string, string>> = {
  d: 'MM/dd/yyyy',
  D: 'dddd, dd MMMM yyyy',
  f: 'dddd, dd MMMM yyyy HH:mm',
  F: 'dddd, dd MMMM yyyy HH:mm:ss',
  g: 'MM/dd/yyyy HH:mm',
  G: 'MM/dd/yyyy HH:mm:ss',
  m: 'MMMM dd',
  M: 'MMMM dd',
  o: "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
  O: "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
  r: "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
  R: "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
  s: "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
  t: 'HH:mm',
  T: 'HH:mm:ss',
  u: "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
  U: 'dddd, dd MMMM yyyy HH:mm:ss',
  y: 'yyyy MMMM',
  Y: 'yyyy MMMM',
};

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

/** `DateTime.ToString(format)`, invariant culture: standard one-letter formats and custom patterns. */
export function formatDate(dt: CsDateTime, fmt: string): string {
  if (fmt === '') fmt = 'G';
  if (fmt.length === 1) {
    const std = STANDARD[fmt];
    if (std === undefined) throw formatError('Input string was not in a correct format.');
    fmt = (fmt === 'o' || fmt === 'O') && dt.isOffset ? "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffzzz" : std;
  }
  const d = new Date(dt.ms);
  const frac = pad((dt.ms - Math.floor(dt.ms / 1000) * 1000) * TICKS_PER_MS + dt.sub, 7);
  let out = '';
  for (let i = 0; i < fmt.length; ) {
    const c = fmt[i] ?? '';
    let n = 1;
    while (fmt[i + n] === c) n++;
    switch (c) {
      case 'y': {
        const y = d.getUTCFullYear();
        out += n <= 2 ? pad(y % 100, n) : pad(y, n);
        break;
      }
      case 'M': {
        const m = d.getUTCMonth();
        out += n <= 2 ? pad(m + 1, n) : n === 3 ? (MONTHS[m] ?? '').slice(0, 3) : (MONTHS[m] ?? '');
        break;
      }
      case 'd': {
        const wd = DAYS[d.getUTCDay()] ?? '';
        out += n <= 2 ? pad(d.getUTCDate(), n) : n === 3 ? wd.slice(0, 3) : wd;
        break;
      }
      case 'H':
        out += pad(d.getUTCHours(), Math.min(n, 2));
        break;
      case 'h':
        out += pad(d.getUTCHours() % 12 || 12, Math.min(n, 2));
        break;
      case 'm':
        out += pad(d.getUTCMinutes(), Math.min(n, 2));
        break;
      case 's':
        out += pad(d.getUTCSeconds(), Math.min(n, 2));
        break;
      case 'f':
      case 'F': {
        if (n > 7) throw formatError('Input string was not in a correct format.');
        let f = frac.slice(0, n);
        if (c === 'F') {
          f = f.replace(/0+$/, '');
          if (f === '' && out.endsWith('.')) out = out.slice(0, -1);
        }
        out += f;
        break;
      }
      case 't': {
        const ampm = d.getUTCHours() < 12 ? 'AM' : 'PM';
        out += n === 1 ? ampm[0] : ampm;
        break;
      }
      case 'K':
        out += dt.isOffset || dt.dkind === 'Local' ? '+00:00' : dt.dkind === 'Utc' ? 'Z' : '';
        n = 1;
        break;
      case 'z':
        out += n === 1 ? '+0' : n === 2 ? '+00' : '+00:00';
        break;
      case "'":
      case '"': {
        const end = fmt.indexOf(c, i + 1);
        if (end < 0) throw formatError(`Cannot find a matching quote character for the character '${c}'.`);
        out += fmt.slice(i + 1, end);
        n = end - i + 1;
        break;
      }
      case '\\':
        out += fmt[i + 1] ?? '';
        n = 2;
        break;
      case '%':
        n = 1;
        break;
      default:
        out += c.repeat(n);
    }
    i += n;
  }
  return out;
}

const ISO =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,7})\d*)?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
const US = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$/;
const RFC = /^(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2}):(\d{2})\s*(GMT|UTC|Z)?$/;

function build(y: number, mo: number, d: number, h: number, mi: number, s: number, fracDigits: string, offMin: number | null, isOffset: boolean): CsDateTime {
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo - 1) || h > 23 || mi > 59 || s > 59)
    throw formatError('String was not recognized as a valid DateTime.');
  const ticks = fracDigits === '' ? 0 : Number(fracDigits.padEnd(7, '0'));
  const ms = utc(y, mo - 1, d) + ((h * 60 + mi) * 60 + s) * 1000 - (offMin ?? 0) * 60000 + Math.floor(ticks / TICKS_PER_MS);
  // A zone in the text makes C# convert to local time (UTC here): Kind=Local; no zone: Unspecified.
  const kind: DateKind = offMin === null ? 'Unspecified' : 'Local';
  return new CsDateTime(ms, ticks % TICKS_PER_MS, isOffset ? 'Utc' : kind, isOffset);
}

/** `DateTime.Parse` for the forms policies use: ISO 8601, invariant `MM/dd/yyyy HH:mm:ss`, RFC 1123. */
export function parseDate(text: string, isOffset = false): CsDateTime {
  const s = text.trim();
  let m = ISO.exec(s);
  if (m !== null) {
    const z = m[8];
    let off: number | null = null;
    if (z !== undefined) {
      if (z === 'Z' || z === 'z') off = 0;
      else {
        const digits = z.slice(1).replace(':', '');
        off = (z.startsWith('-') ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'));
      }
    }
    return build(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), m[7] ?? '', off, isOffset);
  }
  m = US.exec(s);
  if (m !== null) {
    let h = Number(m[4] ?? 0);
    const ap = m[7]?.toUpperCase();
    if (ap !== undefined && (h < 1 || h > 12)) throw formatError('String was not recognized as a valid DateTime.');
    if (ap === 'PM' && h < 12) h += 12;
    if (ap === 'AM' && h === 12) h = 0;
    return build(Number(m[3]), Number(m[1]), Number(m[2]), h, Number(m[5] ?? 0), Number(m[6] ?? 0), '', null, isOffset);
  }
  m = RFC.exec(s);
  if (m !== null) {
    const mon = MONTHS.findIndex((x) => x.slice(0, 3).toLowerCase() === m?.[2]?.toLowerCase());
    if (mon >= 0) return build(Number(m[3]), mon + 1, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]), '', m[7] === undefined ? null : 0, isOffset);
  }
  throw formatError(`String '${text}' was not recognized as a valid DateTime.`);
}

export class CsTimeSpan extends Host {
  readonly ticks: number;
  constructor(ticks: number) {
    super();
    if (!Number.isFinite(ticks)) throw argError('TimeSpan overflowed because the duration is too long.');
    this.ticks = Math.round(ticks);
  }
  static fromMs(ms: number): CsTimeSpan {
    return new CsTimeSpan(ms * TICKS_PER_MS);
  }
  get kind(): string {
    return 'System.TimeSpan';
  }
  get totalMs(): number {
    return this.ticks / TICKS_PER_MS;
  }
  /** Days, hours, minutes, seconds and 7-digit fraction of the absolute value. */
  parts(): { neg: boolean; d: number; h: number; m: number; s: number; f: string } {
    const t = Math.abs(this.ticks);
    const totalS = Math.floor(t / 1e7);
    return {
      neg: this.ticks < 0,
      d: Math.floor(totalS / 86400),
      h: Math.floor(totalS / 3600) % 24,
      m: Math.floor(totalS / 60) % 60,
      s: totalS % 60,
      f: pad(t % 1e7, 7),
    };
  }
  override toCs(): string {
    const p = this.parts();
    const frac = p.f === '0000000' ? '' : `.${p.f}`;
    return `${p.neg ? '-' : ''}${p.d > 0 ? `${p.d}.` : ''}${pad(p.h, 2)}:${pad(p.m, 2)}:${pad(p.s, 2)}${frac}`;
  }
  override formatWith(fmt: string): string {
    if (fmt === '' || fmt === 'c' || fmt === 't' || fmt === 'T') return this.toCs();
    const p = this.parts();
    if (fmt === 'g' || fmt === 'G') {
      const frac = fmt === 'G' || p.f !== '0000000' ? `.${fmt === 'G' ? p.f : p.f.replace(/0+$/, '')}` : '';
      const day = fmt === 'G' || p.d > 0 ? `${p.d}:` : '';
      return `${p.neg ? '-' : ''}${day}${fmt === 'G' ? pad(p.h, 2) : p.h}:${pad(p.m, 2)}:${pad(p.s, 2)}${frac}`;
    }
    let out = '';
    for (let i = 0; i < fmt.length; ) {
      const c = fmt[i] ?? '';
      let n = 1;
      while (fmt[i + n] === c) n++;
      if (c === 'd') out += pad(p.d, n);
      else if (c === 'h') out += pad(p.h, n);
      else if (c === 'm') out += pad(p.m, n);
      else if (c === 's') out += pad(p.s, n);
      else if (c === 'f') out += p.f.slice(0, n);
      else if (c === 'F') out += p.f.slice(0, n).replace(/0+$/, '');
      else if (c === '\\') {
        out += fmt[i + 1] ?? '';
        n = 2;
      }
      else if (c === "'" || c === '"') {
        const end = fmt.indexOf(c, i + 1);
        if (end < 0) throw formatError('Input string was not in a correct format.');
        out += fmt.slice(i + 1, end);
        n = end - i + 1;
      } else throw formatError('Input string was not in a correct format.');
      i += n;
    }
    return out;
  }
}

export class CsGuid extends Host {
  /** 32 lower-case hex digits, or the raw id for request ids that are not GUIDs. */
  readonly hex: string;
  readonly raw: string | null;
  constructor(hex: string, raw: string | null = null) {
    super();
    this.hex = hex;
    this.raw = raw;
  }
  get kind(): string {
    return 'System.Guid';
  }
  override toCs(): string {
    return this.formatWith('D');
  }
  override formatWith(fmt: string): string {
    if (this.raw !== null) return this.raw;
    const h = this.hex;
    const d = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    switch (fmt) {
      case '':
      case 'D':
      case 'd':
        return d;
      case 'N':
      case 'n':
        return h;
      case 'B':
      case 'b':
        return `{${d}}`;
      case 'P':
      case 'p':
        return `(${d})`;
      default:
        throw formatError('Format string can be only "D", "d", "N", "n", "P", "p", "B", "b", "X" or "x".');
    }
  }
}

/** `Guid.Parse` for the D, N, B and P forms. */
export function parseGuid(s: string): CsGuid {
  const m = /^[{(]?([0-9a-fA-F]{8})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{12})[})]?$/.exec(s.trim());
  if (m === null) throw formatError('Unrecognized Guid format.');
  return new CsGuid(m.slice(1).join('').toLowerCase());
}
