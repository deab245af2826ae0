/**
 * Recursive-descent parser for C# expressions (statements are in parse-statements.ts). Follows C#'s
 * precedence table; the two classic ambiguities are settled as the C# spec does: `(T)x` is a cast
 * when T is a predefined type or the token after `)` can start an operand, and `x.M<T>(` is a
 * generic call only when the type list is followed by `(`.
 * @module
 */
import type { BinaryOp, Expr, TypeRef } from './ast.ts';
import { SyntaxFault } from './errors.ts';
import type { Tok } from './lexer.ts';
// A cycle by design: blocks (lambda bodies) and `new` live in parse-statements.ts; both sides only call each other at run time.
import { parseArgs, parseInterpolation, parseNew, tryLambda } from './parse-statements.ts';
import { CsChar, dbl } from './values.ts';

export const KEYWORDS = new Set(
  ('abstract as base bool break byte case catch char checked class const continue decimal default delegate do double else enum ' +
    'event explicit extern false finally fixed float for foreach goto if implicit in int interface internal is lock long namespace ' +
    'new null object operator out override params private protected public readonly ref return sbyte sealed short sizeof ' +
    'stackalloc static string struct switch this throw true try typeof uint ulong unchecked unsafe ushort using virtual void ' +
    'volatile while').split(' '),
);
export const PREDEFINED = new Set(['bool', 'byte', 'char', 'decimal', 'double', 'float', 'int', 'long', 'object', 'sbyte', 'short', 'string', 'uint', 'ulong', 'ushort']);

const PREC: Readonly<Record<string, number>> = {
  '||': 1, '&&': 2, '|': 3, '^': 4, '&': 5, '==': 6, '!=': 6,
  '<': 7, '>': 7, '<=': 7, '>=': 7, is: 7, as: 7, '<<': 8, '>>': 8, '+': 9, '-': 9, '*': 10, '/': 10, '%': 10,
};
const ASSIGN_OPS = new Set(['=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '??=']);
const MAX_DEPTH = 200;

type TypeMode = 'cast' | 'decl' | 'generic' | 'plain' | 'new';

export class Parser {
  readonly toks: readonly Tok[];
  i = 0;
  depth: number;

  constructor(toks: readonly Tok[], depth = 0) {
    this.toks = toks;
    this.depth = depth;
  }

  peek(o = 0): Tok {
    const t = this.toks[Math.min(this.i + o, this.toks.length - 1)];
    if (t === undefined) throw new SyntaxFault('internal: empty token list', 0);
    return t;
  }
  isOp(v: string, o = 0): boolean {
    const t = this.peek(o);
    return t.k === 'op' && t.v === v;
  }
  isKw(v: string, o = 0): boolean {
    const t = this.peek(o);
    return t.k === 'id' && !t.verbatim && t.v === v;
  }
  /** An identifier that is not a keyword (contextual keywords such as `var` count as identifiers). */
  isName(o = 0): boolean {
    const t = this.peek(o);
    return t.k === 'id' && (t.verbatim || !KEYWORDS.has(t.v));
  }
  /** The text of an identifier or operator token (empty for others). */
  text(o = 0): string {
    const t = this.peek(o);
    return t.k === 'id' || t.k === 'op' ? t.v : '';
  }
  fail(msg: string, t: Tok = this.peek()): never {
    throw new SyntaxFault(msg, t.off);
  }
  expectOp(v: string): Tok {
    if (!this.isOp(v)) this.fail(this.peek().k === 'eof' ? `'${v}' expected` : `'${v}' expected, found ${describe(this.peek())}`);
    return this.toks[this.i++] ?? this.fail('internal');
  }
  expectName(): { name: string; off: number } {
    const t = this.peek();
    if (t.k !== 'id' || !this.isName()) this.fail(`Identifier expected, found ${describe(t)}`);
    this.i++;
    return { name: t.v, off: t.off };
  }
  enter(): void {
    if (++this.depth > MAX_DEPTH) this.fail('The expression is nested too deeply');
  }

  // ---- types ----

  /** Parses a type if one starts here; otherwise restores the position and returns null. */
  tryType(mode: TypeMode): TypeRef | null {
    const start = this.i;
    const t = this.peek();
    if (t.k !== 'id' || (!t.verbatim && KEYWORDS.has(t.v) && !PREDEFINED.has(t.v))) return null;
    this.i++;
    let name = t.v;
    if (!PREDEFINED.has(name)) {
      while (this.isOp('.') && this.isName(1)) {
        name += `.${this.text(1)}`;
        this.i += 2;
      }
    }
    let args: TypeRef[] = [];
    if (this.isOp('<')) {
      const save = this.i;
      this.i++;
      const list = this.typeList();
      if (list === null) this.i = save;
      else args = list;
    }
    let nullable = false;
    if (this.isOp('?')) {
      const n = this.peek(1);
      const ok =
        mode === 'decl' ? this.isName(1) : mode === 'cast' || mode === 'generic' ? n.k === 'op' && [')', '>', ',', '['].includes(n.v) : mode === 'new';
      if (ok) {
        nullable = true;
        this.i++;
      }
    }
    let rank = 0;
    while (mode !== 'new' && this.isOp('[') && this.isOp(']', 1)) {
      rank++;
      this.i += 2;
    }
    if (this.i === start) return null;
    return { name, args, rank, nullable, off: t.off };
  }

  /** After `<`: `T, U>`; null (position unspecified) when it is not a type list. */
  private typeList(): TypeRef[] | null {
    const out: TypeRef[] = [];
    for (;;) {
      const t = this.tryType('generic');
      if (t === null) return null;
      out.push(t);
      if (this.isOp(',')) this.i++;
      else if (this.isOp('>')) {
        this.i++;
        return out;
      } else return null;
    }
  }

  // ---- expressions ----

  parseExpr(): Expr {
    this.enter();
    try {
      const lambda = tryLambda(this);
      if (lambda !== null) return lambda;
      const left = this.parseConditional();
      const t = this.peek();
      let op: string | null = null;
      if (t.k === 'op' && ASSIGN_OPS.has(t.v)) op = t.v;
      else if (t.k === 'op' && t.v === '>' && this.isOp('>=', 1) && this.peek(1).off === t.end) op = '>>=';
      if (op === null) return left;
      if (left.k !== 'name' && left.k !== 'member' && left.k !== 'index')
        this.fail('The left-hand side of an assignment must be a variable, property or indexer', t);
      this.i += op === '>>=' ? 2 : 1;
      const value = this.parseExpr();
      return { k: 'assign', off: t.off, op: op === '=' ? '=' : (op.slice(0, -1) as BinaryOp), target: left, value };
    } finally {
      this.depth--;
    }
  }

  private parseConditional(): Expr {
    const c = this.parseCoalesce();
    if (!this.isOp('?')) return c;
    const q = this.peek();
    this.i++;
    const t = this.parseExpr();
    this.expectOp(':');
    const f = this.parseExpr();
    return { k: 'cond', off: q.off, c, t, f };
  }

  private parseCoalesce(): Expr {
    const l = this.parseBinary(1);
    if (!this.isOp('??')) return l;
    const t = this.peek();
    this.i++;
    return { k: 'binary', off: t.off, op: '??', l, r: this.parseCoalesce() };
  }

  private binaryOp(): string | null {
    const t = this.peek();
    if (t.k === 'id' && !t.verbatim && (t.v === 'is' || t.v === 'as')) return t.v;
    if (t.k !== 'op') return null;
    if (t.v === '>' && this.isOp('>', 1) && this.peek(1).off === t.end) return this.isOp('=', 2) ? null : '>>';
    return t.v in PREC ? t.v : null;
  }

  private parseBinary(minPrec: number): Expr {
    this.enter();
    try {
      let l = this.parseUnary();
      for (;;) {
        const op = this.binaryOp();
        const prec = op === null ? undefined : PREC[op];
        if (op === null || prec === undefined || prec < minPrec) return l;
        const t = this.peek();
        this.i += op === '>>' ? 2 : 1;
        if (op === 'is') l = this.parseIs(l, t.off);
        else if (op === 'as') {
          const type = this.tryType('plain') ?? this.fail('Type expected');
          l = { k: 'as', off: t.off, e: l, type };
        } else l = { k: 'binary', off: t.off, op: op as BinaryOp, l, r: this.parseBinary(prec + 1) };
      }
    } finally {
      this.depth--;
    }
  }

  private parseIs(e: Expr, off: number): Expr {
    let not = false;
    if (this.isKw('not')) {
      not = true;
      this.i++;
    }
    if (this.isKw('null')) {
      this.i++;
      return { k: 'is', off, e, type: null, not, decl: null };
    }
    const type = this.tryType('plain') ?? this.fail('Type expected');
    let decl: string | null = null;
    if (!not && this.isName() && !this.isKw('when')) decl = this.expectName().name;
    return { k: 'is', off, e, type, not, decl };
  }

  parseUnary(): Expr {
    this.enter();
    try {
      const t = this.peek();
      if (t.k === 'op') {
        if (t.v === '-' || t.v === '+' || t.v === '!' || t.v === '~') {
          this.i++;
          const e = this.parseUnary();
          if (t.v === '-' && e.k === 'lit' && typeof e.value === 'number') return { k: 'lit', off: t.off, value: -e.value };
          return { k: 'unary', off: t.off, op: t.v, e };
        }
        if (t.v === '++' || t.v === '--') {
          this.i++;
          return { k: 'incdec', off: t.off, op: t.v === '++' ? '+' : '-', prefix: true, target: this.parseUnary() };
        }
        if (t.v === '(') {
          const cast = this.tryCast();
          if (cast !== null) return cast;
        }
      }
      return this.parsePostfix(this.parsePrimary());
    } finally {
      this.depth--;
    }
  }

  private tryCast(): Expr | null {
    const save = this.i;
    const open = this.peek();
    this.i++;
    const type = this.tryType('cast');
    if (type !== null && this.isOp(')')) {
      const n = this.peek(1);
      const predefined = PREDEFINED.has(type.name);
      const operand =
        n.k === 'num' || n.k === 'str' || n.k === 'char' || n.k === 'interp' ||
        (n.k === 'id' && (n.verbatim || (n.v !== 'is' && n.v !== 'as'))) ||
        (n.k === 'op' && (n.v === '(' || n.v === '!' || n.v === '~' || (predefined && (n.v === '-' || n.v === '+' || n.v === '++' || n.v === '--'))));
      if (operand) {
        this.i++;
        return { k: 'cast', off: open.off, type, e: this.parseUnary() };
      }
    }
    this.i = save;
    return null;
  }

  private parsePrimary(): Expr {
    const t = this.peek();
    switch (t.k) {
      case 'num':
        this.i++;
        return { k: 'lit', off: t.off, value: t.int ? t.v : dbl(t.v) };
      case 'str':
        this.i++;
        return { k: 'lit', off: t.off, value: t.v };
      case 'char':
        this.i++;
        return { k: 'lit', off: t.off, value: CsChar.of(t.v) };
      case 'interp':
        this.i++;
        return parseInterpolation(this, t);
      case 'op':
        if (t.v === '(') {
          this.i++;
          const e = this.parseExpr();
          this.expectOp(')');
          return e;
        }
        return this.fail(`Invalid expression term '${t.v}'`);
      case 'eof':
        return this.fail('Expression expected');
      case 'id':
        break;
    }
    this.i++;
    if (t.verbatim) return { k: 'name', off: t.off, name: t.v };
    switch (t.v) {
      case 'true':
      case 'false':
        return { k: 'lit', off: t.off, value: t.v === 'true' };
      case 'null':
        return { k: 'lit', off: t.off, value: null };
      case 'new':
        return parseNew(this, t.off);
      case 'default':
        if (this.isOp('(')) {
          this.i++;
          const type = this.tryType('cast') ?? this.fail('Type expected');
          this.expectOp(')');
          return { k: 'default', off: t.off, type };
        }
        return { k: 'default', off: t.off, type: null };
    }
    if (PREDEFINED.has(t.v)) {
      if (!this.isOp('.')) this.fail(`Invalid expression term '${t.v}'`, t);
      return { k: 'name', off: t.off, name: t.v };
    }
    if (KEYWORDS.has(t.v)) this.fail(`'${t.v}' is not supported in policy expressions`, t);
    return { k: 'name', off: t.off, name: t.v };
  }

  private parsePostfix(start: Expr): Expr {
    let e = start;
    let hasCond = false;
    for (;;) {
      const t = this.peek();
      if (t.k !== 'op') break;
      if (t.v === '.' || t.v === '?.') {
        this.i++;
        const cond = t.v === '?.';
        hasCond ||= cond;
        const { name, off } = this.expectName();
        const targs = this.genericArgsBeforeCall();
        if (this.isOp('(')) e = { k: 'call', off, target: e, name, cond, targs, args: parseArgs(this) };
        else if (targs.length > 0) this.fail("'(' expected");
        else e = { k: 'member', off, target: e, name, cond };
      } else if (t.v === '[' || (t.v === '?' && this.isOp('[', 1) && this.peek(1).off === t.end)) {
        const cond = t.v === '?';
        hasCond ||= cond;
        this.i += cond ? 2 : 1;
        const args = this.exprList(']');
        if (args.length === 0) this.fail('Value expected');
        e = { k: 'index', off: t.off, target: e, args, cond };
      } else if (t.v === '(') {
        if (e.k !== 'name') this.fail('Method name expected', t);
        e = { k: 'call', off: e.off, target: null, name: e.name, cond: false, targs: [], args: parseArgs(this) };
      } else if (t.v === '++' || t.v === '--') {
        this.i++;
        e = { k: 'incdec', off: t.off, op: t.v === '++' ? '+' : '-', prefix: false, target: e };
      } else break;
    }
    return hasCond ? { k: 'chain', off: start.off, e } : e;
  }

  private genericArgsBeforeCall(): TypeRef[] {
    if (!this.isOp('<')) return [];
    const save = this.i;
    this.i++;
    const list = this.typeList();
    if (list !== null && this.isOp('(')) return list;
    this.i = save;
    return [];
  }

  /** Comma-separated expressions up to `close` (consumed); the opener is already consumed. */
  exprList(close: string): Expr[] {
    const out: Expr[] = [];
    if (this.isOp(close)) {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.parseExpr());
      if (this.isOp(',')) this.i++;
      else {
        this.expectOp(close);
        return out;
      }
    }
  }

}

export function describe(t: Tok): string {
  switch (t.k) {
    case 'eof':
      return 'end of expression';
    case 'op':
    case 'id':
      return `'${t.v}'`;
    case 'num':
      return 'a number';
    case 'str':
    case 'interp':
      return 'a string';
    case 'char':
      return 'a character';
  }
}

