/**
 * `System.Text.RegularExpressions.Regex` on RE2 (re2js, pure JS, linear-time matching): the
 * compiled pattern, matching, .NET's substitution syntax for Replace and .NET's Split. Chosen over
 * re2-wasm by measurement (bench numbers in docs/expressions.md): re2js matched 2,000 e-mail
 * addresses in 120 KB in 26 ms where re2-wasm's exec loop took 4.4 s, and tests 5x faster.
 *
 * Bounds: a pattern cannot backtrack, so one search is linear in the input times the program
 * size, and is charged for that before it runs. Iterating matches (Matches, Replace, Split) can
 * still rescan the rest of the input at every match for some patterns (`a*b|a`: quadratic even
 * in RE2), so the wall-clock time an evaluation spends matching is also capped (as .NET's
 * RegexMatchTimeoutException does), checked between searches; the sandbox error cannot be caught.
 * @module
 */
import { RE2JS } from 're2js';
import { CsError, LimitError } from './errors.ts';
import { UNITS_PER_STEP, charge, checkCount, checkStringLength, produceItems, spendRegexTime } from './limits.ts';
import { RegexSyntaxError, type Translated, translate } from './regex-translate.ts';
import { Host } from './values.ts';

/** RegexOptions flag values, as in .NET. */
export const OPT = {
  None: 0, IgnoreCase: 1, Multiline: 2, ExplicitCapture: 4, Compiled: 8, Singleline: 16,
  IgnorePatternWhitespace: 32, RightToLeft: 64, ECMAScript: 256, CultureInvariant: 512, NonBacktracking: 1024,
} as const;

/** Longest pattern compiled (a pattern from request data could otherwise cost a long compile). */
const MAX_PATTERN = 32 * 1024;
/** Work units per input character scanned, on top of the program size (see chargeScan). */
const SCAN_BASE = 8;

export class RegexParseError extends CsError {
  constructor(pattern: string, message: string) {
    super('System.Text.RegularExpressions.RegexParseException', `Invalid pattern '${pattern.length > 200 ? `${pattern.slice(0, 200)}...` : pattern}': ${message}`);
  }
}

export class CsRegex extends Host {
  readonly pattern: string;
  readonly options: number;
  readonly re: RE2JS;
  readonly groups: Translated;
  /** Units charged per input char for a search: RE2's cost grows with the program size. */
  readonly weight: number;

  constructor(pattern: string, options: number) {
    super();
    if (pattern.length > MAX_PATTERN) throw new RegexParseError(pattern, `patterns longer than ${MAX_PATTERN} characters are not accepted`);
    if (options & OPT.RightToLeft) throw new RegexParseError(pattern, 'RegexOptions.RightToLeft is not supported');
    if (options & ~0x7ff) throw new CsError('System.ArgumentOutOfRangeException', "Specified argument was out of the range of valid values. (Parameter 'options')");
    this.pattern = pattern;
    this.options = options;
    try {
      this.groups = translate(pattern, { x: (options & OPT.IgnorePatternWhitespace) !== 0, n: (options & OPT.ExplicitCapture) !== 0 });
      let flags = 0;
      if (options & OPT.IgnoreCase) flags |= RE2JS.CASE_INSENSITIVE;
      if (options & OPT.Multiline) flags |= RE2JS.MULTILINE;
      if (options & OPT.Singleline) flags |= RE2JS.DOTALL;
      this.re = RE2JS.compile(this.groups.source, flags);
    } catch (err) {
      if (err instanceof RegexSyntaxError) throw new RegexParseError(pattern, err.message);
      if (err instanceof Error) throw new RegexParseError(pattern, err.message.replace(/^error parsing regexp: /, ''));
      throw err;
    }
    this.weight = SCAN_BASE + this.re.programSize();
  }

  get kind(): string {
    return 'Regex';
  }
  override get typeName(): string {
    return 'System.Text.RegularExpressions.Regex';
  }
  override toCs(): string {
    return this.pattern;
  }

  /** Charges for scanning `chars` characters, before the search runs. */
  chargeScan(chars: number): void {
    charge(1 + (chars * this.weight) / UNITS_PER_STEP);
  }

  isMatch(input: string, start = 0): boolean {
    this.chargeScan(input.length - start);
    return timed(() => (start === 0 ? this.re.test(input) : this.re.matcher(input).find(start)));
  }

  /** The first match at or after `start`, or a failed Match. */
  match(input: string, start = 0): CsMatch {
    this.chargeScan(input.length - start);
    const m = this.re.matcher(input);
    return timed(() => (m.find(start) ? new CsMatch(this, input, spans(this, m)) : new CsMatch(this, input, null)));
  }

  /**
   * Every match, as .NET finds them: after an empty match the next search starts one char
   * later. `limit` stops early (Replace/Split counts). The input is charged once; every further
   * search is bounded by the evaluation's regex time cap.
   */
  all(input: string, limit = Infinity, start = 0): CsMatch[] {
    this.chargeScan(input.length - start);
    const out: CsMatch[] = [];
    const m = this.re.matcher(input);
    let pos = start;
    while (out.length < limit && pos <= input.length) {
      const found = timed(() => m.find(pos));
      if (!found) break;
      const s = spans(this, m);
      out.push(new CsMatch(this, input, s));
      const [from, to] = [s[0] ?? 0, s[1] ?? 0];
      pos = to > from ? to : to + 1;
      checkCount(out.length);
    }
    produceItems(out.length);
    return out;
  }

  replace(input: string, repl: string | ((m: CsMatch) => string), count = -1, start = 0): string {
    const matches = this.all(input, count < 0 ? Infinity : count, start);
    if (matches.length === 0) return input;
    const parts: string[] = [];
    let len = 0;
    let prev = 0;
    for (const m of matches) {
      const piece = input.slice(prev, m.index);
      const r = typeof repl === 'string' ? substitute(repl, m) : repl(m);
      len += piece.length + r.length;
      checkStringLength(len);
      parts.push(piece, r);
      prev = m.index + m.length;
    }
    parts.push(input.slice(prev));
    return parts.join('');
  }

  /** .NET's Split: the text between matches, plus every group that took part in each match. */
  split(input: string, count = 0, start = 0): string[] {
    if (count === 1) return [input];
    const matches = this.all(input, count > 0 ? count - 1 : Infinity, start);
    const out: string[] = [];
    let prev = 0;
    for (const m of matches) {
      out.push(input.slice(prev, m.index));
      for (let g = 1; g < m.spansByNumber.length; g++) {
        const grp = m.group(g);
        if (grp.success) out.push(grp.value);
      }
      prev = m.index + m.length;
    }
    out.push(input.slice(prev));
    return out;
  }
}

/** [start0, end0, start1, end1, ...] in .NET group order; -1 for a group that did not take part. */
function spans(rx: CsRegex, m: ReturnType<RE2JS['matcher']>): number[] {
  const out: number[] = [];
  for (const idx of rx.groups.numbers) out.push(m.start(idx), m.end(idx));
  return out;
}

/** Runs one search against the evaluation's regex time allowance. */
function timed<T>(fn: () => T): T {
  const t0 = performance.now();
  try {
    return fn();
  } finally {
    if (!spendRegexTime(performance.now() - t0)) {
      throw new LimitError('RegexMatchTimeout', 'Regular-expression matching took longer than one evaluation may (a pattern that rescans a long input at every match).');
    }
  }
}

export class CsGroup extends Host {
  readonly success: boolean;
  readonly index: number;
  readonly value: string;
  readonly name: string;
  constructor(success: boolean, index: number, value: string, name: string) {
    super();
    this.success = success;
    this.index = index;
    this.value = value;
    this.name = name;
  }
  get kind(): string {
    return 'Group';
  }
  override get typeName(): string {
    return 'System.Text.RegularExpressions.Group';
  }
  override toCs(): string {
    return this.value;
  }
}

export class CsMatch extends CsGroup {
  readonly regex: CsRegex;
  readonly input: string;
  /** Null for a failed match. */
  readonly spansByNumber: readonly (readonly [number, number])[];
  constructor(regex: CsRegex, input: string, s: readonly number[] | null) {
    const pairs: [number, number][] = [];
    if (s !== null) for (let k = 0; k < s.length; k += 2) pairs.push([s[k] ?? -1, s[k + 1] ?? -1]);
    const [from, to] = pairs[0] ?? [0, 0];
    super(s !== null, s === null ? 0 : from, s === null ? '' : input.slice(from, to), '0');
    this.regex = regex;
    this.input = input;
    this.spansByNumber = pairs;
  }
  override get kind(): string {
    return 'Match';
  }
  override isA(n: string): boolean {
    return n === 'Group';
  }
  override get typeName(): string {
    return 'System.Text.RegularExpressions.Match';
  }
  get length(): number {
    return this.value.length;
  }
  /** Group by .NET number; an unknown number gives a failed group, as .NET does. */
  group(n: number): CsGroup {
    const span = this.spansByNumber[n];
    const name = this.regex.groups.names[n] ?? String(n);
    if (span === undefined || span[0] < 0) return new CsGroup(false, 0, '', name);
    return new CsGroup(true, span[0], this.input.slice(span[0], span[1]), name);
  }
  groupByName(name: string): CsGroup {
    const n = this.regex.groups.names.indexOf(name);
    return n < 0 ? new CsGroup(false, 0, '', name) : this.group(n);
  }
  groupCount(): number {
    return this.regex.groups.numbers.length;
  }
  next(): CsMatch {
    if (!this.success) return this;
    const start = this.length === 0 ? this.index + 1 : this.index + this.length;
    if (start > this.input.length) return new CsMatch(this.regex, this.input, null);
    return this.regex.match(this.input, start);
  }
}

/**
 * .NET replacement patterns: `$1`, `${name}`, `$$`, `$&`, `` $` ``, `$'`, `$+`, `$_`. A number takes
 * as many digits as still name a group; a reference to no group stays literal text, as in .NET.
 */
export function substitute(repl: string, m: CsMatch): string {
  if (!repl.includes('$')) return repl;
  let out = '';
  for (let i = 0; i < repl.length; i++) {
    const c = repl[i];
    if (c !== '$' || i + 1 >= repl.length) {
      out += c;
      continue;
    }
    const n = repl[i + 1] ?? '';
    if (n === '$') {
      out += '$';
      i++;
    } else if (n === '&') {
      out += m.value;
      i++;
    } else if (n === '`') {
      out += m.input.slice(0, m.index);
      i++;
    } else if (n === "'") {
      out += m.input.slice(m.index + m.length);
      i++;
    } else if (n === '_') {
      out += m.input;
      i++;
    } else if (n === '+') {
      out += m.groupCount() > 1 ? m.group(m.groupCount() - 1).value : m.value;
      i++;
    } else if (n === '{') {
      const close = repl.indexOf('}', i + 2);
      const name = close < 0 ? '' : repl.slice(i + 2, close);
      const num = /^\d+$/.test(name) ? Number(name) : -1;
      const known = num >= 0 ? num < m.groupCount() : m.regex.groups.names.includes(name);
      if (close < 0 || !known) out += '$';
      else {
        out += num >= 0 ? m.group(num).value : m.groupByName(name).value;
        i = close;
      }
    } else if (n >= '0' && n <= '9') {
      let j = i + 1;
      let best = -1;
      let bestEnd = i;
      let v = 0;
      while (j < repl.length && /[0-9]/.test(repl[j] ?? '')) {
        v = v * 10 + Number(repl[j]);
        if (v < m.groupCount()) {
          best = v;
          bestEnd = j;
        }
        j++;
        if (v >= m.groupCount()) break;
      }
      if (best < 0) out += '$';
      else {
        out += m.group(best).value;
        i = bestEnd;
      }
    } else out += '$';
  }
  return out;
}

/** `Regex.Escape`: the metacharacters and white space, as .NET escapes them. */
export function escapePattern(s: string): string {
  return s.replace(/[\\*+?|{[()^$.# \t\n\r\f]/g, (c) => (c === '\t' ? '\\t' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\f' ? '\\f' : `\\${c}`));
}

/** `Regex.Unescape`: the escapes .NET undoes (`\n`, `\t`, `\uXXXX`, `\.`...). */
export function unescapePattern(s: string): string {
  const simple: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07', e: '\x1b' };
  return s.replace(/\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)/gs, (_, e: string) => {
    if (e.length > 1) return String.fromCharCode(parseInt(e.slice(1), 16));
    return simple[e] ?? e;
  });
}

/** Patterns built at run time (from data), compiled once per process: bounded, oldest evicted. */
const CACHE_SIZE = 256;
const cache = new Map<string, CsRegex>();

/** A compiled regex for `pattern`/`options`, from the cache when it was compiled before. */
export function regexFor(pattern: string, options: number): CsRegex {
  const key = `${options}\u0000${pattern}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  // Compiling reads the pattern a few times over; charge it like a scan.
  charge(1 + (pattern.length * 16) / UNITS_PER_STEP);
  const rx = new CsRegex(pattern, options);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value ?? '');
  cache.set(key, rx);
  return rx;
}
