/**
 * .NET regular-expression syntax → RE2 syntax (re2js). RE2 matches in linear time, so a policy's
 * pattern cannot backtrack catastrophically; the price is that the constructs which need
 * backtracking (backreferences, lookaround, atomic groups, conditionals, balancing groups, `\G`)
 * do not exist: they are refused here with an error that names the construct, so a document that
 * uses one fails at load (constant patterns) instead of matching differently.
 *
 * What is translated so that a pattern means what it means in .NET:
 * - `\d`, `\w`, `\s` (and negations) are Unicode-aware in .NET, ASCII in RE2: spelled out as
 *   Unicode classes (inside a `[...]`, `\W`, `\S` stay ASCII: RE2 cannot negate a union there);
 * - `\uXXXX`, `\cX`, `\e`, `\0oo` become `\x{...}`;
 * - `(?'name'...)` becomes `(?P<name>...)`; `(?#comment)` is dropped;
 * - IgnorePatternWhitespace (`x`) and ExplicitCapture (`n`), as options or inline, are applied here
 *   (RE2 has neither): whitespace and `#` comments are removed, `(` becomes `(?:`;
 * - .NET numbers unnamed groups first, then named ones: `groups` maps .NET numbers to RE2 indexes.
 * Known differences that remain (documented): `$` and `\Z` without Multiline match only at the
 * very end (not also before a final `\n`); `\b` is ASCII.
 * @module
 */

export interface Translated {
  readonly source: string;
  /** .NET group number → RE2 group index (index 0 is the whole match). */
  readonly numbers: readonly number[];
  /** .NET group names by .NET number (the number itself, as text, for unnamed groups). */
  readonly names: readonly string[];
}

export class RegexSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegexSyntaxError';
  }
}

const W = '\\p{L}\\p{Mn}\\p{Nd}\\p{Pc}';
const S = '\\t-\\r\\x{85}\\p{Z}';
const OUTSIDE: Readonly<Record<string, string>> = { d: '\\p{Nd}', D: '\\P{Nd}', w: `[${W}]`, W: `[^${W}]`, s: `[${S}]`, S: `[^${S}]` };
const INSIDE: Readonly<Record<string, string>> = { d: '\\p{Nd}', D: '\\P{Nd}', w: W, W: '\\W', s: S, S: '\\S' };

const hex = (code: number): string => `\\x{${code.toString(16)}}`;

function unsupported(construct: string, at: number): never {
  throw new RegexSyntaxError(`${construct} at offset ${at} is not supported: policy expressions match regular expressions in linear time (RE2), which excludes backtracking constructs`);
}

interface Flags {
  x: boolean;
  n: boolean;
}

/** Translates `pattern` under the options' `x` (IgnorePatternWhitespace) and `n` (ExplicitCapture). */
export function translate(pattern: string, opts: Flags): Translated {
  let out = '';
  const stack: Flags[] = [];
  let flags: Flags = { ...opts };
  let i = 0;
  let re2Groups = 0;
  const unnamed: number[] = [];
  const named: { name: string; index: number }[] = [];

  /** An escape at `i` (the backslash); returns the RE2 text and advances. */
  const escape = (inClass: boolean): string => {
    const c = pattern[i + 1];
    if (c === undefined) throw new RegexSyntaxError('Illegal \\ at end of pattern');
    const at = i;
    i += 2;
    const cls = (inClass ? INSIDE : OUTSIDE)[c];
    if (cls !== undefined) return cls;
    switch (c) {
      case 'u': {
        const h = pattern.slice(i, i + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(h)) throw new RegexSyntaxError(`Insufficient hexadecimal digits after \\u at offset ${at}`);
        i += 4;
        return hex(parseInt(h, 16));
      }
      case 'x': {
        const h = pattern.slice(i, i + 2);
        if (!/^[0-9a-fA-F]{2}$/.test(h)) throw new RegexSyntaxError(`Insufficient hexadecimal digits after \\x at offset ${at}`);
        i += 2;
        return hex(parseInt(h, 16));
      }
      case 'c': {
        const l = pattern[i];
        if (l === undefined || !/[A-Za-z@[\\\]^_]/.test(l)) throw new RegexSyntaxError(`Unrecognized control character at offset ${at}`);
        i++;
        return hex(l.toUpperCase().charCodeAt(0) & 31);
      }
      case 'e':
        return hex(0x1b);
      case '0': {
        const m = /^[0-7]{0,2}/.exec(pattern.slice(i))?.[0] ?? '';
        i += m.length;
        return hex(m === '' ? 0 : parseInt(m, 8));
      }
      case 'k':
        return unsupported('A named backreference (\\k)', at);
      case 'G':
        return unsupported('The contiguous-match anchor \\G', at);
      case 'Z':
        return inClass ? unsupported('\\Z in a character class', at) : '\\z';
      case 'A':
      case 'z':
      case 'b':
      case 'B':
        if (inClass) {
          if (c === 'b') return hex(8);
          throw new RegexSyntaxError(`Unrecognized escape sequence \\${c} in a character class at offset ${at}`);
        }
        return `\\${c}`;
      case 'p':
      case 'P': {
        const m = /^\{[A-Za-z0-9_]+\}/.exec(pattern.slice(i));
        if (m === null) throw new RegexSyntaxError(`Incomplete \\${c}{X} character escape at offset ${at}`);
        i += m[0].length;
        if (m[0].startsWith('{Is')) unsupported(`The Unicode block \\${c}${m[0]}`, at);
        return `\\${c}${m[0]}`;
      }
      default:
        if (c >= '1' && c <= '9') return unsupported(`A backreference (\\${c})`, at);
        if (/[A-Za-z]/.test(c) && !'afnrtv'.includes(c)) throw new RegexSyntaxError(`Unrecognized escape sequence \\${c} at offset ${at}`);
        return `\\${c}`;
    }
  };

  const charClass = (): string => {
    const at = i;
    let s = '[';
    i++;
    if (pattern[i] === '^') {
      s += '^';
      i++;
    }
    let first = true;
    for (;;) {
      const c = pattern[i];
      if (c === undefined) throw new RegexSyntaxError(`Unterminated [] set at offset ${at}`);
      if (c === ']' && !first) {
        i++;
        return `${s}]`;
      }
      first = false;
      if (c === '\\') s += escape(true);
      else if (c === '-' && pattern[i + 1] === '[') unsupported('Character class subtraction (-[...])', i);
      else if (c === '[') {
        // A literal `[` in .NET; RE2 would read `[:alpha:]` as a POSIX class.
        s += '\\[';
        i++;
      } else {
        s += c;
        i++;
      }
    }
  };

  /** After `(?`: inline options `imnsx-imnsx` followed by `)` or `:`; null when it is not that. */
  const inlineOptions = (): string | null => {
    const m = /^([imnsx]*)(?:-([imnsx]*))?([:)])/.exec(pattern.slice(i + 2));
    if (m === null || (m[1] === '' && m[2] === undefined)) return null;
    const [all, on = '', off = '', end] = m;
    const next: Flags = { ...flags };
    for (const f of on) if (f === 'x' || f === 'n') next[f] = true;
    for (const f of off) if (f === 'x' || f === 'n') next[f] = false;
    const keep = (s: string): string => s.replace(/[xn]/g, '');
    const re2 = keep(on) + (keep(off) === '' ? '' : `-${keep(off)}`);
    i += 2 + all.length;
    if (end === ')') {
      flags = next;
      return re2 === '' ? '' : `(?${re2})`;
    }
    stack.push(flags);
    flags = next;
    return re2 === '' ? '(?:' : `(?${re2}:`;
  };

  const group = (): string => {
    const at = i;
    if (pattern[i + 1] !== '?') {
      stack.push(flags);
      i++;
      if (flags.n) return '(?:';
      unnamed.push(++re2Groups);
      return '(';
    }
    const rest = pattern.slice(i + 2);
    if (rest.startsWith('#')) {
      const end = pattern.indexOf(')', i);
      if (end < 0) throw new RegexSyntaxError(`Unterminated (?#...) comment at offset ${at}`);
      i = end + 1;
      return '';
    }
    if (rest.startsWith(':')) {
      stack.push(flags);
      i += 3;
      return '(?:';
    }
    if (rest.startsWith('=') || rest.startsWith('!')) unsupported(`A lookahead (?${rest[0]}...)`, at);
    if (rest.startsWith('<=') || rest.startsWith('<!')) unsupported(`A lookbehind (?${rest.slice(0, 2)}...)`, at);
    if (rest.startsWith('>')) unsupported('An atomic group (?>...)', at);
    if (rest.startsWith('(')) unsupported('A conditional group (?(...)...)', at);
    const nm = /^(?:<([^>]*)>|'([^']*)')/.exec(rest);
    if (nm !== null) {
      const name = nm[1] ?? nm[2] ?? '';
      if (name.includes('-')) unsupported(`A balancing group (?<${name}>...)`, at);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new RegexSyntaxError(`Invalid group name '${name}' at offset ${at}`);
      if (named.some((g) => g.name === name)) throw new RegexSyntaxError(`The group name '${name}' is used twice`);
      stack.push(flags);
      i += 2 + nm[0].length;
      named.push({ name, index: ++re2Groups });
      return `(?P<${name}>`;
    }
    const opts = inlineOptions();
    if (opts !== null) return opts;
    throw new RegexSyntaxError(`Unrecognized grouping construct at offset ${at}`);
  };

  while (i < pattern.length) {
    const c = pattern[i] ?? '';
    if (flags.x && /\s/.test(c)) {
      i++;
      continue;
    }
    if (flags.x && c === '#') {
      const nl = pattern.indexOf('\n', i);
      i = nl < 0 ? pattern.length : nl + 1;
      continue;
    }
    switch (c) {
      case '\\':
        out += escape(false);
        break;
      case '[':
        out += charClass();
        break;
      case '(':
        out += group();
        break;
      case ')': {
        const prev = stack.pop();
        if (prev === undefined) throw new RegexSyntaxError(`Too many )'s at offset ${i}`);
        flags = prev;
        out += ')';
        i++;
        break;
      }
      default:
        out += c;
        i++;
    }
  }
  if (stack.length > 0) throw new RegexSyntaxError('Not enough )\'s');
  const numbers = [0, ...unnamed, ...named.map((g) => g.index)];
  const names = ['0', ...unnamed.map((_, k) => String(k + 1)), ...named.map((g) => g.name)];
  return { source: out, numbers, names };
}
