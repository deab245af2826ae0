/**
 * C# tokens for the expression subset. Offsets are into the raw `@(...)` text so that errors can
 * point at the exact line and column. Interpolated strings are lexed into parts whose holes hold
 * their own token lists, so nested quotes (`$"{d["k"]}"`) need no special parser support.
 * `>` is never merged into `>>`: the parser joins adjacent `>` tokens, which keeps
 * `List<List<int>>` parseable.
 * @module
 */
import { SyntaxFault } from './errors.ts';

export type InterpPart =
  | { readonly text: string }
  | { readonly hole: readonly Tok[]; readonly align: readonly Tok[] | null; readonly fmt: string | null; readonly off: number };

export type Tok =
  | { readonly k: 'id'; readonly v: string; readonly verbatim: boolean; readonly off: number; readonly end: number }
  | { readonly k: 'num'; readonly v: number; readonly int: boolean; readonly off: number; readonly end: number }
  | { readonly k: 'str'; readonly v: string; readonly off: number; readonly end: number }
  | { readonly k: 'char'; readonly v: string; readonly off: number; readonly end: number }
  | { readonly k: 'interp'; readonly parts: readonly InterpPart[]; readonly off: number; readonly end: number }
  | { readonly k: 'op'; readonly v: string; readonly off: number; readonly end: number }
  | { readonly k: 'eof'; readonly off: number; readonly end: number };

const OPS3 = ['<<=', '??='];
const OPS2 = ['=>', '==', '!=', '<=', '>=', '&&', '||', '++', '--', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<', '??', '?.'];
const OPS1 = '{}()[].,;:?+-*/%&|^!~<>=';

const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isIdStart = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || (c > '\x7f' && /\p{L}/u.test(c));
const isIdPart = (c: string): boolean => isIdStart(c) || isDigit(c) || (c > '\x7f' && /\p{Nd}/u.test(c));

export class Lexer {
  readonly src: string;
  i: number;
  readonly end: number;

  constructor(src: string, start: number, end = src.length) {
    this.src = src;
    this.i = start;
    this.end = end;
  }

  /** All tokens up to the end, followed by one `eof`. */
  all(): Tok[] {
    const out: Tok[] = [];
    for (;;) {
      const t = this.next();
      out.push(t);
      if (t.k === 'eof') return out;
    }
  }

  private ch(o = 0): string {
    return this.i + o < this.end ? (this.src[this.i + o] ?? '') : '';
  }

  private skipTrivia(): void {
    for (;;) {
      const c = this.ch();
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v' || c === '\u00a0' || c === '\ufeff') this.i++;
      else if (c === '/' && this.ch(1) === '/') {
        while (this.i < this.end && this.ch() !== '\n') this.i++;
      } else if (c === '/' && this.ch(1) === '*') {
        const close = this.src.indexOf('*/', this.i + 2);
        if (close < 0 || close + 2 > this.end) throw new SyntaxFault('End-of-file found, \'*/\' expected', this.i);
        this.i = close + 2;
      } else return;
    }
  }

  next(): Tok {
    this.skipTrivia();
    const off = this.i;
    const c = this.ch();
    if (c === '') return { k: 'eof', off, end: off };
    if (isDigit(c) || (c === '.' && isDigit(this.ch(1)))) return this.number();
    if (c === '"') return this.string(false);
    if (c === '@' && this.ch(1) === '"') {
      this.i++;
      return this.string(true, off);
    }
    if ((c === '$' && this.ch(1) === '"') || (c === '$' && this.ch(1) === '@' && this.ch(2) === '"') || (c === '@' && this.ch(1) === '$' && this.ch(2) === '"')) {
      const verbatim = this.ch(1) === '@' || c === '@';
      this.i += verbatim ? 2 : 1;
      return this.interpolated(verbatim, off);
    }
    if (c === "'") return this.char();
    if (isIdStart(c) || (c === '@' && isIdStart(this.ch(1)))) {
      const verbatim = c === '@';
      if (verbatim) this.i++;
      const s = this.i;
      while (isIdPart(this.ch())) this.i++;
      return { k: 'id', v: this.src.slice(s, this.i), verbatim, off, end: this.i };
    }
    for (const op of OPS3) if (this.src.startsWith(op, this.i) && this.i + 3 <= this.end) return this.op(op);
    for (const op of OPS2) {
      if (this.src.startsWith(op, this.i) && this.i + 2 <= this.end) {
        // `c ?.5 : 1` is a conditional, not a null-conditional access.
        if (op === '?.' && isDigit(this.ch(2))) continue;
        return this.op(op);
      }
    }
    if (OPS1.includes(c)) return this.op(c);
    throw new SyntaxFault(`Unexpected character '${c}'`, off);
  }

  private op(v: string): Tok {
    const off = this.i;
    this.i += v.length;
    return { k: 'op', v, off, end: this.i };
  }

  private number(): Tok {
    const off = this.i;
    let int = true;
    let value: number;
    if (this.ch() === '0' && (this.ch(1) === 'x' || this.ch(1) === 'X' || this.ch(1) === 'b' || this.ch(1) === 'B')) {
      const hex = this.ch(1) === 'x' || this.ch(1) === 'X';
      this.i += 2;
      const s = this.i;
      while (hex ? /[0-9a-fA-F_]/.test(this.ch()) : /[01_]/.test(this.ch())) this.i++;
      const digits = this.src.slice(s, this.i).replaceAll('_', '');
      if (digits === '') throw new SyntaxFault('Invalid number', off);
      value = Number((hex ? '0x' : '0b') + digits);
    } else {
      const s = this.i;
      while (isDigit(this.ch()) || this.ch() === '_') this.i++;
      if (this.ch() === '.' && isDigit(this.ch(1))) {
        int = false;
        this.i++;
        while (isDigit(this.ch()) || this.ch() === '_') this.i++;
      }
      if (this.ch() === 'e' || this.ch() === 'E') {
        const save = this.i;
        this.i++;
        if (this.ch() === '+' || this.ch() === '-') this.i++;
        if (!isDigit(this.ch())) this.i = save;
        else {
          int = false;
          while (isDigit(this.ch())) this.i++;
        }
      }
      value = Number(this.src.slice(s, this.i).replaceAll('_', ''));
    }
    const suffix = this.ch().toLowerCase();
    if (suffix === 'f' || suffix === 'd' || suffix === 'm') {
      int = false;
      this.i++;
    } else if (suffix === 'l' || suffix === 'u') {
      if (!int) throw new SyntaxFault('Invalid real literal suffix', this.i);
      this.i++;
      const s2 = this.ch().toLowerCase();
      if ((s2 === 'l' || s2 === 'u') && s2 !== suffix) this.i++;
    }
    if (isIdPart(this.ch())) throw new SyntaxFault('Invalid number', off);
    if (int && value > 18446744073709551615) throw new SyntaxFault('Integral constant is too large', off);
    return { k: 'num', v: value, int, off, end: this.i };
  }

  private escape(): string {
    const at = this.i;
    this.i++; // backslash
    const c = this.ch();
    this.i++;
    switch (c) {
      case "'":
        return "'";
      case '"':
        return '"';
      case '\\':
        return '\\';
      case '0':
        return '\0';
      case 'a':
        return '\x07';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case 'v':
        return '\v';
      case 'u':
      case 'U':
      case 'x': {
        const max = c === 'u' ? 4 : c === 'U' ? 8 : 4;
        const s = this.i;
        while (this.i - s < max && /[0-9a-fA-F]/.test(this.ch())) this.i++;
        if ((c !== 'x' && this.i - s !== max) || this.i === s) throw new SyntaxFault('Unrecognized escape sequence', at);
        const code = parseInt(this.src.slice(s, this.i), 16);
        if (code > 0x10ffff) throw new SyntaxFault('Unrecognized escape sequence', at);
        return String.fromCodePoint(code);
      }
      default:
        throw new SyntaxFault('Unrecognized escape sequence', at);
    }
  }

  /** Reads the body of a (verbatim) string up to its closing quote; the opening quote is at `this.i`. */
  private string(verbatim: boolean, off = this.i): Tok {
    this.i++;
    let out = '';
    for (;;) {
      const c = this.ch();
      if (c === '') throw new SyntaxFault('Newline in constant', off);
      if (c === '"') {
        if (verbatim && this.ch(1) === '"') {
          out += '"';
          this.i += 2;
          continue;
        }
        this.i++;
        return { k: 'str', v: out, off, end: this.i };
      }
      if (!verbatim && (c === '\n' || c === '\r')) throw new SyntaxFault('Newline in constant', off);
      if (!verbatim && c === '\\') out += this.escape();
      else {
        out += c;
        this.i++;
      }
    }
  }

  private char(): Tok {
    const off = this.i;
    this.i++;
    let v: string;
    if (this.ch() === '\\') v = this.escape();
    else if (this.ch() === "'" || this.ch() === '' || this.ch() === '\n') throw new SyntaxFault('Empty character literal', off);
    else {
      v = this.ch();
      this.i++;
    }
    if (this.ch() !== "'" || v.length !== 1) throw new SyntaxFault('Too many characters in character literal', off);
    this.i++;
    return { k: 'char', v, off, end: this.i };
  }

  /** `$"text {expr,align:format} text"`; `this.i` is at the opening quote. */
  private interpolated(verbatim: boolean, off: number): Tok {
    this.i++;
    const parts: InterpPart[] = [];
    let text = '';
    for (;;) {
      const c = this.ch();
      if (c === '' || (!verbatim && (c === '\n' || c === '\r'))) throw new SyntaxFault('Newline in constant', off);
      if (c === '"') {
        if (verbatim && this.ch(1) === '"') {
          text += '"';
          this.i += 2;
          continue;
        }
        this.i++;
        if (text !== '') parts.push({ text });
        return { k: 'interp', parts, off, end: this.i };
      }
      if ((c === '{' && this.ch(1) === '{') || (c === '}' && this.ch(1) === '}')) {
        text += c;
        this.i += 2;
      } else if (c === '{') {
        if (text !== '') parts.push({ text });
        text = '';
        parts.push(this.hole());
      } else if (c === '}') {
        throw new SyntaxFault("Unexpected '}' in interpolated string (write '}}')", this.i);
      } else if (!verbatim && c === '\\') {
        text += this.escape();
      } else {
        text += c;
        this.i++;
      }
    }
  }

  private hole(): InterpPart {
    const off = this.i;
    this.i++; // '{'
    const hole = this.until([',', ':', '}'], off);
    let align: Tok[] | null = null;
    let fmt: string | null = null;
    let stop = this.src[this.i - 1];
    if (stop === ',') {
      align = this.until([':', '}'], off);
      stop = this.src[this.i - 1];
    }
    if (stop === ':') {
      const close = this.src.indexOf('}', this.i);
      if (close < 0 || close >= this.end) throw new SyntaxFault('Unterminated interpolation hole', off);
      fmt = this.src.slice(this.i, close);
      this.i = close + 1;
    }
    return { hole, align, fmt, off };
  }

  /** Tokens up to one of `stops` at nesting depth 0 (consumed, not returned), followed by an eof token. */
  private until(stops: readonly string[], holeOff: number): Tok[] {
    const out: Tok[] = [];
    let depth = 0;
    for (;;) {
      const t = this.next();
      if (t.k === 'eof') throw new SyntaxFault('Unterminated interpolation hole', holeOff);
      if (t.k === 'op') {
        if (depth === 0 && stops.includes(t.v)) {
          out.push({ k: 'eof', off: t.off, end: t.off });
          return out;
        }
        if (t.v === '(' || t.v === '[' || t.v === '{') depth++;
        else if (t.v === ')' || t.v === ']' || t.v === '}') depth--;
      }
      out.push(t);
    }
  }
}
