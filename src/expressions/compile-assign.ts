/**
 * Assignment (`=`, `+=`, `??=`...) and `++`/`--` to locals, properties and indexers. The target
 * object and index are evaluated once, as C# does for compound assignment.
 * @module
 */
import type { BinaryOp, Expr } from './ast.ts';
import { implicitTo } from './conversions.ts';
import { getIndex, getMember, setIndex, setMember } from './dispatch.ts';
import { type Ev, type ExprCompiler, type Frame, fail, located } from './frame.ts';
import { budgetExceeded } from './limits.ts';
import { arith, bitwise } from './operators.ts';
import { CsChar } from './values.ts';

/** A place that can be read and written; `bind` evaluates the target/index once. */
type Place = (f: Frame) => { get(): unknown; set(v: unknown): void };

function place(c: ExprCompiler, target: Expr): Place {
  switch (target.k) {
    case 'name': {
      const slot = c.scope.find(target.name);
      if (slot === undefined) {
        if (target.name === 'context') return fail("Cannot assign to 'context'", target.off);
        return fail(`The name '${target.name}' does not exist in the current context`, target.off);
      }
      if (slot.readonly) return fail(`Cannot assign to '${target.name}' because it is a 'foreach iteration variable'`, target.off);
      const { index, type } = slot;
      return (f) => ({
        get: () => f.slots[index],
        set: (v) => {
          f.slots[index] = type === null ? v : implicitTo(v, type);
        },
      });
    }
    case 'member': {
      if (target.cond) return fail('The left-hand side of an assignment cannot contain a null-conditional operator', target.off);
      const obj = c.expr(target.target);
      const { name } = target;
      return (f) => {
        const o = obj(f);
        return { get: () => getMember(o, name), set: (v) => setMember(o, name, v) };
      };
    }
    case 'index': {
      if (target.cond) return fail('The left-hand side of an assignment cannot contain a null-conditional operator', target.off);
      const obj = c.expr(target.target);
      const keys = target.args.map((a) => c.expr(a));
      return (f) => {
        const o = obj(f);
        const k = keys.map((ev) => ev(f));
        return { get: () => getIndex(o, k), set: (v) => setIndex(o, k, v) };
      };
    }
    case 'as': case 'assign': case 'binary': case 'call': case 'cast': case 'chain': case 'cond': case 'default': case 'incdec':
    case 'interp': case 'is': case 'lambda': case 'lit': case 'new': case 'newAnon': case 'newArray': case 'out': case 'unary':
      return fail('The left-hand side of an assignment must be a variable, property or indexer', target.off);
  }
}

function combine(op: BinaryOp, a: unknown, b: unknown): unknown {
  switch (op) {
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
      return arith(op, a, b);
    case '&':
    case '|':
    case '^':
    case '<<':
    case '>>':
      return bitwise(op, a, b);
    case '==': case '!=': case '<': case '>': case '<=': case '>=': case '&&': case '||': case '??':
      throw new Error(`internal: compound operator ${op}`);
  }
}

export function compileAssign(c: ExprCompiler, e: Extract<Expr, { k: 'assign' | 'incdec' }>): Ev {
  const p = place(c, e.target);
  const off = e.off;
  if (e.k === 'incdec') {
    const { op, prefix } = e;
    return (f) => {
      if (--f.left < 0) budgetExceeded();
      try {
        const at = p(f);
        const old = at.get();
        const next = old instanceof CsChar ? CsChar.of(String.fromCharCode((old.code + (op === '+' ? 1 : -1)) & 0xffff)) : arith(op, old, 1);
        at.set(next);
        return prefix ? next : old;
      } catch (err) {
        located(err, off);
      }
    };
  }
  const value = c.expr(e.value);
  const op = e.op;
  if (op === '=') {
    return (f) => {
      if (--f.left < 0) budgetExceeded();
      const at = p(f);
      const v = value(f);
      try {
        at.set(v);
      } catch (err) {
        located(err, off);
      }
      return v;
    };
  }
  return (f) => {
    if (--f.left < 0) budgetExceeded();
    try {
      const at = p(f);
      const cur = at.get();
      const v = op === '??' ? (cur ?? value(f)) : combine(op, cur, value(f));
      at.set(v);
      return v;
    } catch (err) {
      located(err, off);
    }
  };
}
