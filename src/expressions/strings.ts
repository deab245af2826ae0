/**
 * System.String: instance members, `string.*` statics, composite formatting (`string.Format`,
 * interpolation holes) and StringBuilder. Comparisons are ordinal, as `==` is; culture-sensitive
 * overloads behave as their ordinal counterparts (APIM runs in the invariant culture anyway).
 * @module
 */
import { argAt, charOrStr, ignoreCase, int, str, strOrNull, enumOf } from './args.ts';
import { argError, formatError, indexOutOfRange, outOfRange } from './errors.ts';
import { BYTES_PER_CHAR, MAX_STRING, allocate, charge, checkCount, checkString, checkStringLength, chargeWork, mapChunks, produceChars } from './limits.ts';
import { toSeq } from './linq.ts';
import { formatNumber } from './numbers.ts';
import { defineStatic, defineType } from './registry.ts';
import { CsChar, Host, csString, defineEnum } from './values.ts';
import { asJwt, tryParseJwt } from './jwt.ts';

const comparisons = defineEnum('System.StringComparison', ['CurrentCulture', 'CurrentCultureIgnoreCase', 'InvariantCulture', 'InvariantCultureIgnoreCase', 'Ordinal', 'OrdinalIgnoreCase']);
const splitOptions = defineEnum('System.StringSplitOptions', ['None', 'RemoveEmptyEntries', 'TrimEntries']);

/** `ToString(format)` of any value, as composite formatting applies it. */
export function formatValue(v: unknown, fmt: string | null): string {
  if (fmt === null || fmt === '') return csString(v);
  if (typeof v === 'number') return formatNumber(v, true, fmt);
  if (v instanceof Host) return v.formatWith(fmt);
  return csString(v);
}

/** Pads for a composite-format alignment (`{0,5}` right-aligns, `{0,-5}` left-aligns). */
export function align(s: string, width: number): string {
  if (Math.abs(width) > MAX_STRING) checkStringLength(Math.abs(width));
  return width >= 0 ? s.padStart(width) : s.padEnd(-width);
}

/** `string.Format(format, args)`. */
export function compositeFormat(fmt: string, args: readonly unknown[]): string {
  chargeWork(fmt.length);
  let out = '';
  const brace = /[{}]/g;
  for (let i = 0; i < fmt.length; i++) {
    // Literal text up to the next brace is copied in one slice, not char by char.
    brace.lastIndex = i;
    const next = brace.exec(fmt);
    const at = next === null ? fmt.length : next.index;
    if (at > i) {
      out += fmt.slice(i, at);
      i = at - 1;
      continue;
    }
    const c = fmt[i];
    if ((c === '{' || c === '}') && fmt[i + 1] === c) {
      out += c;
      i++;
    } else if (c === '}') throw formatError('Input string was not in a correct format.');
    else if (c === '{') {
      const close = fmt.indexOf('}', i);
      const m = close < 0 ? null : /^\s*(\d+)\s*(?:,\s*(-?\d+)\s*)?(?::(.*))?$/s.exec(fmt.slice(i + 1, close));
      if (m === null) throw formatError('Input string was not in a correct format.');
      const index = Number(m[1]);
      if (index >= args.length) throw formatError('Index (zero based) must be greater than or equal to zero and less than the size of the argument list.');
      out += align(formatValue(args[index], m[3] ?? null), Number(m[2] ?? 0));
      checkStringLength(out.length);
      i = close;
    } else out += c;
  }
  return out;
}

/** A `params object[]` argument list: one array argument is the list itself. */
function paramsList(args: readonly unknown[], from: number): readonly unknown[] {
  const rest = args.slice(from);
  return rest.length === 1 && Array.isArray(rest[0]) ? (rest[0] as unknown[]) : rest;
}

function seqOfStrings(v: unknown): readonly string[] {
  const seq = toSeq(v);
  if (seq === null) throw argError('Expected a sequence of values.');
  return seq.map(csString);
}

export function join(sep: string, items: readonly string[]): string {
  let len = 0;
  for (const s of items) len += s.length + sep.length;
  checkStringLength(len);
  chargeWork(len);
  return items.join(sep);
}

const WS = /^[\s\u0085]$/;
/** White space by char code: ASCII without a regex call per char (a string of 8 M spaces took seconds to trim). */
const isWsCode = (c: number): boolean => c === 32 || (c >= 9 && c <= 13) || (c > 127 && WS.test(String.fromCharCode(c)));

function trim(s: string, chars: string | null, start: boolean, end: boolean): string {
  const set = chars === null ? null : new Set(chars);
  const drop = (i: number): boolean => (set === null ? isWsCode(s.charCodeAt(i)) : set.has(s[i] ?? ''));
  let a = 0;
  let b = s.length;
  if (start) while (a < b && drop(a)) a++;
  if (end) while (b > a && drop(b - 1)) b--;
  // Each char examined is a call, dearer than a copy: charged after, by how far the trim went.
  if (a + (s.length - b) > 4096) chargeWork((a + s.length - b) * 8);
  return s.slice(a, b);
}

/** The chars of a `params char[]` argument list (chars, strings of one char, or one char array). */
function charSet(args: readonly unknown[]): string | null {
  if (args.length === 0) return null;
  const items = paramsList(args, 0);
  let out = '';
  for (const x of items) out += x instanceof CsChar ? x.c : csString(x);
  return out === '' ? null : out;
}

/** `Split`: char/string separators (params, or an array), then optional count and StringSplitOptions. */
function split(s: string, args: unknown[]): string[] {
  let seps: string[] = [];
  let count = Number.MAX_SAFE_INTEGER;
  let opts = 0;
  let sawSeparator = false;
  for (const a of args) {
    const opt = enumOf(a, 'System.StringSplitOptions');
    if (opt !== null) opts = opt.value === 1 ? 1 : opt.value === 2 ? 2 : 0;
    else if (typeof a === 'number') count = a;
    else if (a instanceof CsChar || typeof a === 'string') {
      seps.push(a instanceof CsChar ? a.c : a);
      sawSeparator = true;
    } else if (Array.isArray(a)) {
      seps.push(...(a as unknown[]).map((x) => (x instanceof CsChar ? x.c : csString(x))));
      sawSeparator = true;
    } else if (a === null) sawSeparator = false;
    else throw argError('Unsupported Split argument.');
  }
  if (count < 0) throw outOfRange('count');
  seps = seps.filter((x) => x !== '');
  // Every position tries every separator (the scan of `s` itself is charged by the caller).
  let sepUnits = 0;
  for (const x of seps) sepUnits += x.length;
  if (sepUnits > 1) chargeWork(s.length * sepUnits);
  let parts: string[];
  if (count <= 1 || (sawSeparator && seps.length === 0)) parts = count === 0 ? [] : [s];
  else {
    parts = [];
    let startAt = 0;
    const next = nextSeparator(s, seps);
    while (parts.length < count - 1) {
      const hit = next(startAt);
      if (hit === null) break;
      parts.push(s.slice(startAt, hit.at));
      if ((parts.length & 1023) === 0) {
        checkCount(parts.length);
        charge(1024 * STEPS_PER_PART);
      }
      startAt = hit.at + hit.len;
    }
    parts.push(s.slice(startAt));
    checkCount(parts.length);
    charge((parts.length & 1023) * STEPS_PER_PART);
    // The parts' characters (the array itself is counted when the call settles).
    allocate(s.length * BYTES_PER_CHAR);
  }
  if (opts === 2) parts = parts.map((p) => p.trim());
  if (opts === 1) parts = parts.filter((p) => p !== '');
  return parts;
}

/**
 * The next separator at or after a position: the earliest occurrence of any of `seps` (the first
 * listed wins a tie, as .NET tries them in order), or of a white-space char when there are none.
 * Each separator's next occurrence is remembered, so a split is one pass per separator.
 */
function nextSeparator(s: string, seps: readonly string[]): (from: number) => { at: number; len: number } | null {
  if (seps.length === 0) {
    const ws = /[\s\u0085]/g;
    return (from) => {
      ws.lastIndex = from;
      const m = ws.exec(s);
      return m === null ? null : { at: m.index, len: 1 };
    };
  }
  const at = seps.map(() => -2);
  return (from) => {
    let best = -1;
    let len = 0;
    for (let j = 0; j < seps.length; j++) {
      const sep = seps[j] ?? '';
      if ((at[j] ?? -1) !== -1 && (at[j] ?? -1) < from) at[j] = s.indexOf(sep, from);
      const p = at[j] ?? -1;
      if (p >= 0 && (best < 0 || p < best)) {
        best = p;
        len = sep.length;
      }
    }
    return best < 0 ? null : { at: best, len };
  };
}

/**
 * Each match of Replace, and each part of Split, costs about what a few AST steps do (a piece of
 * output built by the engine), beyond scanning the input: measured, a step per match, half per part.
 */
const STEPS_PER_MATCH = 1;
const STEPS_PER_PART = 0.5;

function replace(s: string, from: string, to: string): string {
  if (from === '') throw argError("The value cannot be an empty string. (Parameter 'oldValue')");
  let n = 0;
  for (let i = s.indexOf(from); i >= 0; i = s.indexOf(from, i + from.length)) {
    // Charged as it counts, so a string of a million matches stops within the budget.
    if ((++n & 1023) === 0) charge(1024 * STEPS_PER_MATCH);
  }
  checkStringLength(s.length + n * (to.length - from.length));
  charge((n & 1023) * STEPS_PER_MATCH);
  return s.replaceAll(from, to);
}

function cmp(a: string, b: string, ic: boolean): number {
  const x = ic ? a.toUpperCase() : a;
  const y = ic ? b.toUpperCase() : b;
  return x < y ? -1 : x > y ? 1 : 0;
}

function checkRange(s: string, start: number, len: number): void {
  if (start < 0 || start > s.length) throw outOfRange('startIndex');
  if (len < 0 || start + len > s.length) throw outOfRange('length');
}

/** IndexOf/LastIndexOf overloads: (value[, startIndex[, count]][, comparison]). */
function indexOf(s: string, a: unknown[], last: boolean): number {
  const ic = a.length > 1 && ignoreCase(a[a.length - 1]) && enumOf(a[a.length - 1], 'System.StringComparison') !== null;
  const needle = charOrStr(a, 0);
  const nums = a.slice(1).filter((x): x is number => typeof x === 'number');
  const hay = ic ? s.toUpperCase() : s;
  const n = ic ? needle.toUpperCase() : needle;
  if (last) return nums[0] === undefined ? hay.lastIndexOf(n) : hay.lastIndexOf(n, nums[0]);
  const from = nums[0] ?? 0;
  if (from < 0 || from > s.length) throw outOfRange('startIndex');
  const r = hay.indexOf(n, from);
  return nums[1] !== undefined && r >= 0 && r + n.length > from + nums[1] ? -1 : r;
}

function pad(s: string, a: unknown[], left: boolean): string {
  const width = int(a, 0);
  if (width < 0) throw outOfRange('totalWidth');
  checkStringLength(width);
  chargeWork(width);
  const c = a.length > 1 ? charOrStr(a, 1) : ' ';
  return left ? s.padStart(width, c) : s.padEnd(width, c);
}

/**
 * Case mapping looks every char up in Unicode's tables (a few times a copy's cost, charged on top
 * of the scan); upper-casing may triple a string (ß → SS), so it is built piecewise up to the cap.
 */
function caseMapped(s: string, upper: boolean): string {
  chargeWork(s.length * 3);
  return upper ? mapChunks(s, (p) => p.toUpperCase()) : checkString(s.toLowerCase());
}

/** Every string method may scan the whole string, so each call costs in proportion to its length. */
const scanned = <A extends unknown[], R>(f: (s: string, ...a: A) => R) => (s: string, ...a: A): R => {
  chargeWork(s.length);
  return f(s, ...a);
};

defineType<string>('System.String', 'System.String', {
  props: { Length: (s) => s.length },
  index: (s, k) => {
    const i = k[0];
    if (typeof i !== 'number' || k.length !== 1) throw argError('A string index must be one int.');
    if (i < 0 || i >= s.length) throw indexOutOfRange();
    return CsChar.of(s[i] ?? '');
  },
  methods: {
    AsJwt: [0, 0, (s) => asJwt(s)],
    TryParseJwt: [1, 1, (s, a) => tryParseJwt(s, a)],
    Contains: [1, 2, scanned((s, a) => (a.length > 1 && ignoreCase(a[1]) ? s.toUpperCase().includes(charOrStr(a, 0).toUpperCase()) : s.includes(charOrStr(a, 0))))],
    StartsWith: [1, 3, scanned((s, a) => (a.length > 1 && ignoreCase(a[1]) ? s.toUpperCase().startsWith(charOrStr(a, 0).toUpperCase()) : s.startsWith(charOrStr(a, 0))))],
    EndsWith: [1, 3, scanned((s, a) => (a.length > 1 && ignoreCase(a[1]) ? s.toUpperCase().endsWith(charOrStr(a, 0).toUpperCase()) : s.endsWith(charOrStr(a, 0))))],
    Equals: [1, 2, scanned((s, a) => { const o = argAt(a, 0); return typeof o === 'string' && cmp(s, o, a.length > 1 && ignoreCase(a[1])) === 0; })],
    CompareTo: [1, 1, scanned((s, a) => (argAt(a, 0) === null ? 1 : cmp(s, str(a, 0), false)))],
    IndexOf: [1, 4, scanned((s, a) => indexOf(s, a, false))],
    LastIndexOf: [1, 4, scanned((s, a) => indexOf(s, a, true))],
    IndexOfAny: [1, 3, scanned((s, a) => { chargeWork(s.length * 8); const set = new Set(charSet([a[0]]) ?? ''); for (let i = typeof a[1] === 'number' ? a[1] : 0; i < s.length; i++) if (set.has(s[i] ?? '')) return i; return -1; })],
    Substring: [1, 2, scanned((s, a) => { const st = int(a, 0); const len = a.length > 1 ? int(a, 1) : s.length - st; checkRange(s, st, len); return s.slice(st, st + len); })],
    Remove: [1, 2, scanned((s, a) => { const st = int(a, 0); const len = a.length > 1 ? int(a, 1) : s.length - st; checkRange(s, st, len); return s.slice(0, st) + s.slice(st + len); })],
    Insert: [2, 2, scanned((s, a) => { const at = int(a, 0); if (at < 0 || at > s.length) throw outOfRange('startIndex'); const v = str(a, 1); checkStringLength(s.length + v.length); return s.slice(0, at) + v + s.slice(at); })],
    ToLower: [0, 1, scanned((s) => caseMapped(s, false))],
    ToUpper: [0, 1, scanned((s) => caseMapped(s, true))],
    ToLowerInvariant: [0, 0, scanned((s) => caseMapped(s, false))],
    ToUpperInvariant: [0, 0, scanned((s) => caseMapped(s, true))],
    Trim: [0, Infinity, scanned((s, a) => trim(s, charSet(a), true, true))],
    TrimStart: [0, Infinity, scanned((s, a) => trim(s, charSet(a), true, false))],
    TrimEnd: [0, Infinity, scanned((s, a) => trim(s, charSet(a), false, true))],
    Split: [0, Infinity, scanned((s, a) => split(s, a))],
    Replace: [2, 2, scanned((s, a) => replace(s, charOrStr(a, 0, 'oldValue'), a[1] instanceof CsChar ? a[1].c : str(a, 1, 'newValue', true)))],
    PadLeft: [1, 2, scanned((s, a) => pad(s, a, true))],
    PadRight: [1, 2, scanned((s, a) => pad(s, a, false))],
    ToCharArray: [0, 0, scanned((s) => { checkCount(s.length); chargeWork(s.length); return Array.from({ length: s.length }, (_, i) => CsChar.of(s[i] ?? '')); })],
    ToString: [0, 1, (s) => s],
    Normalize: [0, 1, scanned((s) => s.normalize())],
  },
});

defineStatic(['string', 'String'], {
  props: { Empty: () => '' },
  methods: {
    IsNullOrEmpty: [1, 1, (a) => { const s = strOrNull(a, 0); return s === null || s === ''; }],
    IsNullOrWhiteSpace: [1, 1, (a) => { const s = strOrNull(a, 0); return s === null || trim(s, null, true, true) === ''; }],
    Join: [2, Infinity, (a) => join(a[0] instanceof CsChar ? a[0].c : str(a, 0, 'separator', true), a.length === 2 && typeof a[1] !== 'string' ? seqOfStrings(a[1]) : a.slice(1).map(csString))],
    Concat: [1, Infinity, (a) => join('', a.length === 1 && typeof a[0] !== 'string' && toSeq(a[0]) !== null ? seqOfStrings(a[0]) : a.map(csString))],
    Format: [1, Infinity, (a) => compositeFormat(str(a, 0, 'format'), paramsList(a, 1))],
    Equals: [2, 3, (a) => { const x = strOrNull(a, 0); const y = strOrNull(a, 1); return x === null || y === null ? x === y : cmp(x, y, a.length > 2 && ignoreCase(a[2])) === 0; }],
    Compare: [2, 3, (a) => { const x = strOrNull(a, 0); const y = strOrNull(a, 1); if (x === null || y === null) return x === y ? 0 : x === null ? -1 : 1; return cmp(x, y, a.length > 2 && ignoreCase(a[2])); }],
    CompareOrdinal: [2, 2, (a) => cmp(str(a, 0), str(a, 1), false)],
  },
  ctor: [1, 2, (a) => {
    if (a.length === 2) {
      const n = int(a, 1);
      if (n < 0) throw outOfRange('count');
      const c = charOrStr(a, 0);
      checkStringLength(c.length * n);
      return c.repeat(n);
    }
    const seq = toSeq(a[0]);
    if (seq === null) throw argError('Expected a char array.');
    return join('', seq.map(csString));
  }],
});

defineStatic(['StringComparison'], { props: Object.fromEntries([...comparisons].map(([k, v]) => [k, () => v])) });
defineStatic(['StringSplitOptions'], { props: Object.fromEntries([...splitOptions].map(([k, v]) => [k, () => v])) });

/** System.Text.StringBuilder. */
export class StringBuilder extends Host {
  value = '';
  get kind(): string {
    return 'StringBuilder';
  }
  override get typeName(): string {
    return 'System.Text.StringBuilder';
  }
  override toCs(): string {
    return this.value;
  }
  append(s: string): StringBuilder {
    checkStringLength(this.value.length + s.length);
    produceChars(s.length);
    this.value += s;
    return this;
  }
  /** Insert, Remove and Replace copy the whole value (as .NET's chunk moves do): charged, before, as a new string. */
  rewrite(next: (v: string) => string): StringBuilder {
    chargeWork(this.value.length);
    const v = next(this.value);
    produceChars(v.length);
    this.value = v;
    return this;
  }
}

defineType<StringBuilder>('StringBuilder', 'System.Text.StringBuilder', {
  props: { Length: (b) => b.value.length },
  methods: {
    Append: [1, 1, (b, a) => b.append(csString(a[0]))],
    AppendLine: [0, 1, (b, a) => b.append(`${csString(a[0])}\n`)],
    AppendFormat: [1, Infinity, (b, a) => b.append(compositeFormat(str(a, 0, 'format'), paramsList(a, 1)))],
    Insert: [2, 2, (b, a) => { const at = int(a, 0); if (at < 0 || at > b.value.length) throw outOfRange(); const v = csString(a[1]); checkStringLength(b.value.length + v.length); return b.rewrite((s) => s.slice(0, at) + v + s.slice(at)); }],
    Replace: [2, 2, (b, a) => b.rewrite((s) => replace(s, charOrStr(a, 0), a[1] instanceof CsChar ? a[1].c : str(a, 1, 'newValue', true)))],
    Remove: [2, 2, (b, a) => { const st = int(a, 0); const len = int(a, 1); checkRange(b.value, st, len); return b.rewrite((s) => s.slice(0, st) + s.slice(st + len)); }],
    Clear: [0, 0, (b) => { b.value = ''; return b; }],
    ToString: [0, 0, (b) => b.value],
  },
});

defineStatic(['StringBuilder'], {
  ctor: [0, 2, (a) => {
    const b = new StringBuilder();
    if (typeof a[0] === 'string') b.append(a[0]);
    return b;
  }],
});
