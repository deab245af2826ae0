/**
 * Statements of `@{ ... }` blocks and lambda bodies, plus the expression forms that are mostly
 * about brackets: `new` (objects, arrays, anonymous), lambdas, call arguments, collection
 * initializers and interpolated strings. C# rules kept: only calls, assignments, `++/--` and
 * `new` may stand as statements; a local declaration is `Type name [= value]`.
 * @module
 */
import type { Arg, Expr, InitEntry, Stmt, TypeRef } from './ast.ts';
import { SyntaxFault } from './errors.ts';
import type { Tok } from './lexer.ts';
import { Parser, PREDEFINED, describe } from './parser.ts';
import { parseSwitch, parseUsing } from './parse-switch.ts';

const UNSUPPORTED_STATEMENTS = new Set(['goto', 'lock', 'yield', 'fixed', 'unsafe', 'checked', 'unchecked', 'const', 'static', 'class', 'struct', 'delegate']);
const STATEMENT_EXPRESSIONS = new Set(['call', 'assign', 'incdec', 'new']);

/** `{ statements }` with the `{` at the current position. */
export function parseBlock(p: Parser): Stmt {
  const open = p.expectOp('{');
  const body: Stmt[] = [];
  while (!p.isOp('}')) {
    if (p.peek().k === 'eof') p.fail("'}' expected");
    body.push(parseStatement(p));
  }
  const close = p.expectOp('}');
  return { k: 'block', off: open.off, body, end: close.off };
}

function isVar(p: Parser): boolean {
  return p.isKw('var') && p.isName(1);
}

/** A local declaration if one starts here (`var x`, `Type x`); otherwise null with the position restored. */
function tryDeclType(p: Parser): TypeRef | null {
  const t = p.peek();
  if (isVar(p)) {
    p.i++;
    return { name: 'var', args: [], rank: 0, nullable: false, off: t.off };
  }
  const save = p.i;
  const type = p.tryType('decl');
  if (type !== null && p.isName() && (p.isOp('=', 1) || p.isOp(';', 1) || p.isOp(',', 1) || p.isKw('in', 1))) return type;
  p.i = save;
  return null;
}

function parseDecl(p: Parser, type: TypeRef): Stmt {
  const vars: { name: string; off: number; init: Expr | null }[] = [];
  do {
    const { name, off } = p.expectName();
    let init: Expr | null = null;
    if (p.isOp('=')) {
      p.i++;
      if (p.isOp('{') && type.rank > 0) {
        const open = p.peek();
        p.i++;
        init = { k: 'newArray', off: open.off, type: { ...type, rank: type.rank - 1 }, size: null, items: p.exprList('}') };
      } else init = p.parseExpr();
    } else if (type.name === 'var') p.fail('Implicitly-typed variables must be initialized');
    vars.push({ name, off, init });
  } while (p.isOp(',') && p.i++ >= 0);
  return { k: 'decl', off: type.off, type, vars };
}

function parseExprStatement(p: Parser): Stmt {
  const t = p.peek();
  const e = p.parseExpr();
  const inner = e.k === 'chain' ? e.e : e;
  if (!STATEMENT_EXPRESSIONS.has(inner.k))
    throw new SyntaxFault('Only assignment, call, increment, decrement and new object expressions can be used as a statement', t.off);
  return { k: 'expr', off: t.off, e };
}

function parens(p: Parser): Expr {
  p.expectOp('(');
  const e = p.parseExpr();
  p.expectOp(')');
  return e;
}

export function parseStatement(p: Parser): Stmt {
  p.enter();
  try {
    return statement(p);
  } finally {
    p.depth--;
  }
}

function statement(p: Parser): Stmt {
  const t = p.peek();
  if (p.isOp('{')) return parseBlock(p);
  if (p.isOp(';')) {
    p.i++;
    return { k: 'empty', off: t.off };
  }
  if (t.k === 'id' && !t.verbatim) {
    switch (t.v) {
      case 'if': {
        p.i++;
        const c = parens(p);
        const then = parseStatement(p);
        let f: Stmt | null = null;
        if (p.isKw('else')) {
          p.i++;
          f = parseStatement(p);
        }
        return { k: 'if', off: t.off, c, t: then, f };
      }
      case 'while': {
        p.i++;
        const c = parens(p);
        return { k: 'while', off: t.off, c, body: parseStatement(p) };
      }
      case 'do': {
        p.i++;
        const body = parseStatement(p);
        if (!p.isKw('while')) p.fail("'while' expected");
        p.i++;
        const c = parens(p);
        p.expectOp(';');
        return { k: 'do', off: t.off, body, c };
      }
      case 'for':
        return parseFor(p);
      case 'foreach': {
        p.i++;
        p.expectOp('(');
        const type = tryDeclType(p) ?? p.fail('Type expected');
        const v = p.expectName();
        if (!p.isKw('in')) p.fail("'in' expected");
        p.i++;
        const coll = p.parseExpr();
        p.expectOp(')');
        return { k: 'foreach', off: t.off, type, name: v.name, nameOff: v.off, coll, body: parseStatement(p) };
      }
      case 'return':
      case 'throw': {
        p.i++;
        const e = p.isOp(';') ? null : p.parseExpr();
        p.expectOp(';');
        return { k: t.v, off: t.off, e };
      }
      case 'break':
      case 'continue':
        p.i++;
        p.expectOp(';');
        return { k: t.v, off: t.off };
      case 'try':
        return parseTry(p);
      case 'switch':
        return parseSwitch(p, parseStatement);
      case 'using':
        return parseUsing(p, parseStatement, (q) => {
          const type = tryDeclType(q);
          return type === null ? null : parseDecl(q, type);
        });
      default:
        if (UNSUPPORTED_STATEMENTS.has(t.v)) p.fail(`'${t.v}' statements are not supported in policy expressions`);
    }
  }
  const type = tryDeclType(p);
  const s = type === null ? parseExprStatement(p) : parseDecl(p, type);
  p.expectOp(';');
  return s;
}

function parseFor(p: Parser): Stmt {
  const off = p.peek().off;
  p.i++;
  p.expectOp('(');
  const init: Stmt[] = [];
  if (!p.isOp(';')) {
    const type = tryDeclType(p);
    if (type !== null) init.push(parseDecl(p, type));
    else {
      init.push(parseExprStatement(p));
      while (p.isOp(',') && p.i++ >= 0) init.push(parseExprStatement(p));
    }
  }
  p.expectOp(';');
  const c = p.isOp(';') ? null : p.parseExpr();
  p.expectOp(';');
  const iter: Expr[] = [];
  if (!p.isOp(')')) {
    do {
      const s = parseExprStatement(p);
      if (s.k === 'expr') iter.push(s.e);
    } while (p.isOp(',') && p.i++ >= 0);
  }
  p.expectOp(')');
  return { k: 'for', off, init, c, iter, body: parseStatement(p) };
}

function parseTry(p: Parser): Stmt {
  const off = p.peek().off;
  p.i++;
  const body = parseBlock(p);
  const catches: { type: TypeRef | null; name: string | null; body: Stmt }[] = [];
  while (p.isKw('catch')) {
    p.i++;
    let type: TypeRef | null = null;
    let name: string | null = null;
    if (p.isOp('(')) {
      p.i++;
      type = p.tryType('plain') ?? p.fail('Type expected');
      if (p.isName()) name = p.expectName().name;
      p.expectOp(')');
    }
    if (p.isKw('when')) p.fail('Exception filters are not supported');
    catches.push({ type, name, body: parseBlock(p) });
  }
  let fin: Stmt | null = null;
  if (p.isKw('finally')) {
    p.i++;
    fin = parseBlock(p);
  }
  if (catches.length === 0 && fin === null) p.fail("Expected catch or finally");
  return { k: 'try', off, body, catches, fin };
}

/** After the `new` keyword. */
export function parseNew(p: Parser, off: number): Expr {
  if (p.isOp('[')) {
    p.i++;
    p.expectOp(']');
    p.expectOp('{');
    return { k: 'newArray', off, type: null, size: null, items: p.exprList('}') };
  }
  if (p.isOp('{')) return parseAnon(p, off);
  const type = p.tryType('new') ?? p.fail(`Type expected, found ${describe(p.peek())}`);
  if (p.isOp('[')) {
    p.i++;
    let size: Expr | null = null;
    if (!p.isOp(']')) size = p.parseExpr();
    p.expectOp(']');
    let rank = 0;
    while (p.isOp('[') && p.isOp(']', 1)) {
      p.i += 2;
      rank++;
    }
    let items: Expr[] | null = null;
    if (p.isOp('{')) {
      p.i++;
      items = p.exprList('}');
    } else if (size === null) p.fail("Array creation must have array size or array initializer");
    return { k: 'newArray', off, type: { ...type, rank }, size, items };
  }
  if (PREDEFINED.has(type.name) && !p.isOp('(')) p.fail("'(' or '[' expected");
  const hadParens = p.isOp('(');
  const args = hadParens ? parseArgs(p) : [];
  const init = p.isOp('{') ? parseInitializer(p) : null;
  if (!hadParens && init === null) p.fail('A new expression requires (), [], or {} after type');
  return { k: 'new', off, type, args, init };
}

/** `new { Name = value, context.Request.Method }`. */
function parseAnon(p: Parser, off: number): Expr {
  p.expectOp('{');
  const fields: { name: string; e: Expr }[] = [];
  while (!p.isOp('}')) {
    if (p.isName() && p.isOp('=', 1)) {
      const { name } = p.expectName();
      p.i++;
      fields.push({ name, e: p.parseExpr() });
    } else {
      const t = p.peek();
      const e = p.parseExpr();
      const name = e.k === 'member' || e.k === 'name' ? e.name : null;
      if (name === null) throw new SyntaxFault('Invalid anonymous type member declarator', t.off);
      fields.push({ name, e });
    }
    if (p.isOp(',')) p.i++;
    else break;
  }
  p.expectOp('}');
  return { k: 'newAnon', off, fields };
}

/** `x => ...`, `(a, b) => ...`, `(JToken m) => { ... }` if one starts here; otherwise null, position unchanged. */
export function tryLambda(p: Parser): Expr | null {
  const t = p.peek();
  const params: { name: string; off: number }[] = [];
  if (p.isName() && p.isOp('=>', 1)) {
    params.push({ name: p.text(), off: t.off });
    p.i += 2;
  } else if (p.isOp('(') && (p.isOp(')', 1) || ((p.isName(1) || PREDEFINED.has(p.text(1))) && (p.isOp(',', 2) || p.isOp(')', 2) || p.peek(2).k === 'id' || p.isOp('<', 2) || p.isOp('[', 2))))) {
    const save = p.i;
    p.i++;
    while (!p.isOp(')')) {
      const typed = p.tryType('decl');
      if (typed === null) break;
      if (p.isName()) params.push(p.expectName());
      else if (typed.args.length === 0 && typed.rank === 0 && !typed.name.includes('.')) params.push({ name: typed.name, off: typed.off });
      else break;
      if (p.isOp(',')) p.i++;
      else break;
    }
    if (!p.isOp(')') || !p.isOp('=>', 1)) {
      p.i = save;
      return null;
    }
    p.i += 2;
  } else return null;
  const body = p.isOp('{') ? parseBlock(p) : p.parseExpr();
  return { k: 'lambda', off: t.off, params, body };
}

/** The parts of `$"..."`, each hole parsed by its own sub-parser over the hole's tokens. */
export function parseInterpolation(p: Parser, t: Extract<Tok, { k: 'interp' }>): Expr {
  const parts: (string | { e: Expr; align: Expr | null; fmt: string | null })[] = [];
  for (const part of t.parts) {
    if ('text' in part) {
      parts.push(part.text);
      continue;
    }
    const sub = (toks: readonly Tok[]): Expr => {
      const ps = new Parser(toks, p.depth);
      if (ps.peek().k === 'eof') throw new SyntaxFault('Expression expected in interpolation hole', part.off);
      const e = ps.parseExpr();
      if (ps.peek().k !== 'eof') ps.fail(`Unexpected ${describe(ps.peek())} in interpolation hole`);
      return e;
    };
    parts.push({ e: sub(part.hole), align: part.align === null ? null : sub(part.align), fmt: part.fmt });
  }
  return { k: 'interp', off: t.off, parts };
}

/** `(a, name: b, out var c)`. */
export function parseArgs(p: Parser): Arg[] {
  p.expectOp('(');
  const out: Arg[] = [];
  if (p.isOp(')')) {
    p.i++;
    return out;
  }
  for (;;) {
    let name: string | null = null;
    if (p.isName() && p.isOp(':', 1)) {
      name = p.expectName().name;
      p.i++;
    }
    const t = p.peek();
    if (p.isKw('out')) {
      p.i++;
      let decl: TypeRef | null = null;
      if (!(p.isName() && (p.isOp(')', 1) || p.isOp(',', 1)))) decl = p.tryType('decl') ?? p.fail('Type or variable expected');
      const v = p.expectName();
      out.push({ name, e: { k: 'out', off: t.off, decl, name: v.name } });
    } else if (p.isKw('ref') || p.isKw('in')) {
      p.fail(`'${p.text()}' arguments are not supported`);
    } else out.push({ name, e: p.parseExpr() });
    if (p.isOp(',')) p.i++;
    else {
      p.expectOp(')');
      return out;
    }
  }
}

/** `{ a, b }` or `{ {k, v}, [k] = v }` after `new T(...)`; `{` is at the current position. */
export function parseInitializer(p: Parser): InitEntry[] {
  p.expectOp('{');
  const out: InitEntry[] = [];
  while (!p.isOp('}')) {
    const t = p.peek();
    if (p.isOp('[')) {
      p.i++;
      const index = p.exprList(']');
      p.expectOp('=');
      out.push({ k: 'index', index, value: p.parseExpr(), off: t.off });
    } else if (p.isOp('{')) {
      p.i++;
      out.push({ k: 'add', args: p.exprList('}'), off: t.off });
    } else if (p.isName() && p.isOp('=', 1)) {
      p.fail('Object initializers (Member = value) are not supported');
    } else out.push({ k: 'add', args: [p.parseExpr()], off: t.off });
    if (p.isOp(',')) p.i++;
    else break;
  }
  p.expectOp('}');
  return out;
}
