/**
 * Statements → closures returning a completion code (normal, break, continue, return), so control
 * flow costs no exceptions. Loops charge a step per iteration on top of their bodies' nodes.
 * @module
 */
import type { Stmt } from './ast.ts';
import type { Compiler } from './compile.ts';
import { compileSwitch, compileUsing } from './compile-switch.ts';
import { ExceptionValue, throwValue } from './core-members.ts';
import { castTo, defaultOf, implicitTo } from './conversions.ts';
import { CsError, nullRef } from './errors.ts';
import { type Ev, type Frame, Scope, fail, located } from './frame.ts';
import { budgetExceeded, chargeWork } from './limits.ts';
import { toSeq } from './linq.ts';
import { truth } from './operators.ts';
import { resolveType } from './types.ts';
import { csTypeName } from './values.ts';

export const NORMAL = 0;
export const BREAK = 1;
const CONTINUE = 2;
const RETURN = 3;
type Completion = 0 | 1 | 2 | 3;
export type St = (f: Frame) => Completion;

/** Base types a `catch (T)` also catches. */
const SUBTYPES: Readonly<Record<string, readonly string[]>> = {
  Exception: ['*'],
  SystemException: ['*'],
  ArgumentException: ['ArgumentException', 'ArgumentNullException', 'ArgumentOutOfRangeException', 'RegexParseException'],
  JsonException: ['JsonException', 'JsonReaderException', 'JsonSerializationException'],
  ArithmeticException: ['ArithmeticException', 'DivideByZeroException', 'OverflowException'],
};

function catches(typeName: string | null, err: CsError): boolean {
  if (typeName === null) return true;
  const short = typeName.slice(typeName.lastIndexOf('.') + 1);
  const actual = err.csType.slice(err.csType.lastIndexOf('.') + 1);
  const family = SUBTYPES[short];
  return family === undefined ? actual === short : family.includes('*') || family.includes(actual);
}

export interface Ctx {
  loops: number;
  /** Enclosing switch statements (a `break` may leave one). */
  switches: number;
  /** Inside a lambda body `return;` is fine; at top level a value is required. */
  inLambda: boolean;
  /** Slot holding the exception being handled, for `throw;`. */
  caught: number | null;
}

export class StatementCompiler {
  readonly c: Compiler;
  constructor(c: Compiler) {
    this.c = c;
  }

  scoped<T>(fn: () => T): T {
    const outer = this.c.scope;
    this.c.scope = new Scope(outer);
    try {
      return fn();
    } finally {
      this.c.scope = outer;
    }
  }

  stmt(s: Stmt, x: Ctx): St {
    switch (s.k) {
      case 'block': {
        const body = this.scoped(() => s.body.map((b) => this.stmt(b, x)));
        return (f) => {
          for (const b of body) {
            const r = b(f);
            if (r !== NORMAL) return r;
          }
          return NORMAL;
        };
      }
      case 'empty':
        return () => NORMAL;
      case 'decl': {
        const ct = resolveType(s.type);
        const typed = ct.n === 'var' ? null : ct;
        const parts = s.vars.map((v) => {
          const init = v.init === null ? null : this.c.expr(v.init);
          const slot = this.c.declare(v.name, v.off, typed).index;
          return { slot, init, off: v.off };
        });
        return (f) => {
          if (--f.left < 0) budgetExceeded();
          for (const p of parts) {
            const v = p.init === null ? (typed === null ? null : defaultOf(typed)) : p.init(f);
            try {
              f.slots[p.slot] = typed === null ? v : implicitTo(v, typed);
            } catch (err) {
              located(err, p.off);
            }
          }
          return NORMAL;
        };
      }
      case 'expr': {
        const e = this.c.expr(s.e);
        return (f) => {
          e(f);
          return NORMAL;
        };
      }
      case 'if': {
        const c = this.c.expr(s.c);
        const t = this.scoped(() => this.stmt(s.t, x));
        const e = s.f === null ? null : this.scoped(() => this.stmt(s.f as Stmt, x));
        return (f) => {
          let b: boolean;
          try {
            b = truth(c(f));
          } catch (err) {
            located(err, s.off);
          }
          return b ? t(f) : e === null ? NORMAL : e(f);
        };
      }
      case 'while':
      case 'do': {
        const c = this.c.expr(s.c);
        const body = this.scoped(() => this.stmt(s.body, { ...x, loops: x.loops + 1 }));
        const checkFirst = s.k === 'while';
        return (f) => {
          for (let first = true; ; first = false) {
            if (--f.left < 0) budgetExceeded();
            if ((checkFirst || !first) && !cond(c, f, s.off)) return NORMAL;
            const r = body(f);
            if (r === BREAK) return NORMAL;
            if (r === RETURN) return r;
          }
        };
      }
      case 'for':
        return this.scoped(() => {
          const init = s.init.map((i) => this.stmt(i, x));
          const c = s.c === null ? null : this.c.expr(s.c);
          const iter = s.iter.map((i) => this.c.expr(i));
          const body = this.scoped(() => this.stmt(s.body, { ...x, loops: x.loops + 1 }));
          return (f: Frame): Completion => {
            for (const i of init) i(f);
            for (;;) {
              if (--f.left < 0) budgetExceeded();
              if (c !== null && !cond(c, f, s.off)) return NORMAL;
              const r = body(f);
              if (r === BREAK) return NORMAL;
              if (r === RETURN) return r;
              for (const it of iter) it(f);
            }
          };
        });
      case 'foreach':
        return this.foreach(s, x);
      case 'return': {
        if (s.e === null && !x.inLambda) return fail('A policy expression block must return a value', s.off);
        const e = s.e === null ? null : this.c.expr(s.e);
        return (f) => {
          f.ret = e === null ? null : e(f);
          return RETURN;
        };
      }
      case 'break':
      case 'continue': {
        if (x.loops === 0 && (s.k === 'continue' || x.switches === 0)) return fail(`No enclosing loop out of which to ${s.k}`, s.off);
        const code = s.k === 'break' ? BREAK : CONTINUE;
        return () => code;
      }
      case 'throw': {
        if (s.e === null) {
          const slot = x.caught ?? fail('A throw statement with no arguments is not allowed outside of a catch clause', s.off);
          return (f) => {
            throw f.slots[slot];
          };
        }
        const e = this.c.expr(s.e);
        return (f) => {
          try {
            return throwValue(e(f));
          } catch (err) {
            located(err, s.off);
          }
        };
      }
      case 'try':
        return this.tryStmt(s, x);
      case 'switch':
        return compileSwitch(this, s, x);
      case 'using':
        return compileUsing(this, s, x);
    }
  }

  private foreach(s: Extract<Stmt, { k: 'foreach' }>, x: Ctx): St {
    const coll = this.c.expr(s.coll);
    return this.scoped(() => {
      const ct = resolveType(s.type);
      const typed = ct.n === 'var' ? null : ct;
      const slot = this.c.declare(s.name, s.nameOff, null, true).index;
      const body = this.stmt(s.body, { ...x, loops: x.loops + 1 });
      return (f: Frame): Completion => {
        if (--f.left < 0) budgetExceeded();
        const src = coll(f);
        let items: readonly unknown[];
        try {
          if (src === null || src === undefined) throw nullRef();
          const seq = toSeq(src);
          if (seq === null) throw new CsError('Microsoft.CSharp.RuntimeBinder.RuntimeBinderException', `foreach statement cannot operate on variables of type '${csTypeName(src)}'`);
          chargeWork(seq.length);
          items = [...seq];
        } catch (err) {
          located(err, s.off);
        }
        for (const item of items) {
          if (--f.left < 0) budgetExceeded();
          try {
            f.slots[slot] = typed === null ? item : castTo(item, typed);
          } catch (err) {
            located(err, s.nameOff);
          }
          const r = body(f);
          if (r === BREAK) return NORMAL;
          if (r === RETURN) return r;
        }
        return NORMAL;
      };
    });
  }

  private tryStmt(s: Extract<Stmt, { k: 'try' }>, x: Ctx): St {
    const body = this.stmt(s.body, x);
    const handlers = s.catches.map((h) =>
      this.scoped(() => {
        // Resolving checks the type exists; matching uses the name as written.
        if (h.type !== null) resolveType(h.type);
        const typeName = h.type === null ? null : h.type.name;
        const varSlot = h.name === null ? null : this.c.declare(h.name, h.type?.off ?? s.off, null).index;
        const caught = this.c.declare(`<caught${this.c.slotCount}>`, s.off, null).index;
        return { typeName, varSlot, caught, run: this.stmt(h.body, { ...x, caught }) };
      }),
    );
    const fin = s.fin === null ? null : this.stmt(s.fin, x);
    return (f) => {
      try {
        return body(f);
      } catch (err) {
        // Only C# exceptions are catchable: budget and size limits must stop the evaluation.
        if (!(err instanceof CsError)) throw err;
        const h = handlers.find((c) => catches(c.typeName, err));
        if (h === undefined) throw err;
        if (h.varSlot !== null) f.slots[h.varSlot] = new ExceptionValue(err.csType, err.message);
        f.slots[h.caught] = err;
        return h.run(f);
      } finally {
        if (fin !== null) fin(f);
      }
    };
  }
}

function cond(c: Ev, f: Frame, off: number): boolean {
  try {
    return truth(c(f));
  } catch (err) {
    located(err, off);
  }
}

/** Whether a statement always ends in `return` or `throw` (C#'s "not all code paths return a value"). */
export function alwaysReturns(s: Stmt): boolean {
  switch (s.k) {
    case 'return':
    case 'throw':
      return true;
    case 'block':
      return s.body.some(alwaysReturns);
    case 'if':
      return s.f !== null && alwaysReturns(s.t) && alwaysReturns(s.f);
    case 'while':
      return s.c.k === 'lit' && s.c.value === true && !breaks(s.body);
    case 'for':
      return s.c === null && !breaks(s.body);
    case 'do':
      return alwaysReturns(s.body) || (s.c.k === 'lit' && s.c.value === true && !breaks(s.body));
    case 'try':
      return (alwaysReturns(s.body) && s.catches.every((h) => alwaysReturns(h.body))) || (s.fin !== null && alwaysReturns(s.fin));
    case 'using':
      return alwaysReturns(s.body);
    case 'switch':
      // Exhaustive (a default) and no section can leave the switch with `break`.
      return s.sections.some((sec) => sec.labels.includes(null)) && s.sections.every((sec) => sec.body.some(alwaysReturns) && !sec.body.some(breaks));
    case 'break': case 'continue': case 'decl': case 'empty': case 'expr': case 'foreach':
      return false;
  }
}

/** A `break` that would leave this loop (not one inside a nested loop). */
function breaks(s: Stmt): boolean {
  switch (s.k) {
    case 'break':
      return true;
    case 'block':
      return s.body.some(breaks);
    case 'if':
      return breaks(s.t) || (s.f !== null && breaks(s.f));
    case 'try':
      return breaks(s.body) || s.catches.some((h) => breaks(h.body)) || (s.fin !== null && breaks(s.fin));
    case 'using':
      return breaks(s.body);
    // A break inside a nested loop or switch leaves that one only.
    case 'switch':
    case 'continue': case 'decl': case 'do': case 'empty': case 'expr': case 'for': case 'foreach': case 'return': case 'throw': case 'while':
      return false;
  }
}

/** Compiles a top-level `@{ }` block (which must return a value) or a lambda body. */
export function compileBlock(c: Compiler, s: Stmt, inLambda: boolean): Ev {
  const sc = new StatementCompiler(c);
  const st = sc.stmt(s, { loops: 0, switches: 0, inLambda, caught: null });
  if (!inLambda && !alwaysReturns(s)) fail('Not all code paths return a value', s.k === 'block' ? s.end : s.off);
  return (f) => {
    f.ret = null;
    const r = st(f);
    if (r !== RETURN && !inLambda) throw new CsError('System.InvalidOperationException', 'The block ended without returning a value.');
    return r === RETURN ? f.ret : null;
  };
}
