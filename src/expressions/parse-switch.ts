/**
 * `switch` and `using` statements. C#'s rules kept: case labels are constants (checked when
 * compiling), a section's statement list may not fall through to the next label (it must end in
 * `break`, `return`, `throw` or `continue`; several labels may share one list), and `using`
 * takes a declaration or an expression in parentheses.
 * @module
 */
import type { Expr, Stmt } from './ast.ts';
import type { Parser } from './parser.ts';

type StatementParser = (p: Parser) => Stmt;
type DeclParser = (p: Parser) => Stmt | null;

/** At `switch`. */
export function parseSwitch(p: Parser, statement: StatementParser): Stmt {
  const off = p.peek().off;
  p.i++;
  p.expectOp('(');
  const e = p.parseExpr();
  p.expectOp(')');
  p.expectOp('{');
  const sections: { labels: (Expr | null)[]; body: Stmt[]; off: number }[] = [];
  while (!p.isOp('}')) {
    const sectionOff = p.peek().off;
    const labels: (Expr | null)[] = [];
    while (p.isKw('case') || p.isKw('default')) {
      const isDefault = p.isKw('default');
      p.i++;
      if (isDefault) labels.push(null);
      else {
        labels.push(p.parseExpr());
        if (p.isKw('when')) p.fail('Case guards (when) are not supported in policy expressions');
      }
      p.expectOp(':');
    }
    if (labels.length === 0) p.fail(p.peek().k === 'eof' ? "'}' expected" : "'case' or 'default' expected");
    const body: Stmt[] = [];
    while (!p.isKw('case') && !p.isKw('default') && !p.isOp('}')) {
      if (p.peek().k === 'eof') p.fail("'}' expected");
      body.push(statement(p));
    }
    if (!endsInJump(body)) p.fail(`Control cannot fall through from one case label to another`, p.peek());
    sections.push({ labels, body, off: sectionOff });
  }
  p.expectOp('}');
  return { k: 'switch', off, e, sections };
}

/** Whether the end of a statement list cannot be reached (C#'s no-fall-through rule, syntactically). */
function endsInJump(body: readonly Stmt[]): boolean {
  const last = body.at(-1);
  if (last === undefined) return false;
  switch (last.k) {
    case 'break':
    case 'continue':
    case 'return':
    case 'throw':
      return true;
    case 'block':
      return endsInJump(last.body);
    case 'if':
      return last.f !== null && endsInJump([last.t]) && endsInJump([last.f]);
    case 'try':
      return endsInJump([last.body]) && last.catches.every((c) => endsInJump([c.body]));
    case 'while':
      return last.c.k === 'lit' && last.c.value === true;
    case 'for':
      return last.c === null;
    case 'decl': case 'do': case 'empty': case 'expr': case 'foreach': case 'switch': case 'using':
      return false;
  }
}

/** At `using`: `using (var x = e) stmt`, `using (e) stmt`, or the C# 8 declaration `using var x = e;`. */
export function parseUsing(p: Parser, statement: StatementParser, decl: DeclParser): Stmt {
  const off = p.peek().off;
  p.i++;
  if (!p.isOp('(')) {
    const d = decl(p) ?? p.fail("'(' expected");
    p.expectOp(';');
    return d;
  }
  p.i++;
  const d = decl(p);
  const e = d === null ? p.parseExpr() : null;
  p.expectOp(')');
  return { k: 'using', off, decl: d, e, body: statement(p) };
}
