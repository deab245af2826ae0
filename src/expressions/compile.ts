/**
 * AST → closures. Each node becomes one `(frame) => value` function built once at load; evaluation
 * is then a walk over closures with no parsing, no name lookups of locals (they are slot indexes)
 * and one budget decrement per node. Static names (`Math`, `DateTime`, `context`, locals) are
 * resolved here, so an unknown name is a compile error with a position.
 * @module
 */
import type { Arg, Expr, Stmt } from './ast.ts';
import { asType, castTo, defaultOf, implicitTo, isType } from './conversions.ts';
import { ContextModel } from './context-model.ts';
import { callMethod, getIndex, getMember } from './dispatch.ts';
import { compileAssign } from './compile-assign.ts';
import { prepareCall } from './compile-const.ts';
import { compileAnon, compileInterpolation, compileNew, compileNewArray } from './compile-new.ts';
import { type Ev, type ExprCompiler, type Frame, SHORT, Scope, type Slot, fail, located } from './frame.ts';
import { budgetExceeded } from './limits.ts';
import { chargeArgs, settle } from './metering.ts';
import { arith, bitwise, complement, csCompare, csEquals, negate, not, plus, truth } from './operators.ts';
import { staticType, type StaticDesc } from './registry.ts';
import { type CType, NAMESPACES, resolveType, stripNamespace } from './types.ts';
import { Lambda, OutRef } from './values.ts';

export class Compiler implements ExprCompiler {
  slotCount = 0;
  scope: Scope = new Scope(null);
  /** Hook for statement bodies of lambdas (compile-statements.ts). */
  lambdaBlock: ((body: Stmt) => Ev) | null = null;

  declare(name: string, off: number, type: CType | null, readonly = false): Slot {
    if (this.scope.names.has(name)) fail(`A local variable named '${name}' is already defined in this scope`, off);
    const slot: Slot = { index: this.slotCount++, type, readonly };
    this.scope.names.set(name, slot);
    return slot;
  }

  /** A dotted name (`System.Text.Encoding`) when `e` is only names and plain member accesses, not rooted at a local. */
  private qualified(e: Expr): string | null {
    if (e.k === 'name') return this.scope.find(e.name) === undefined && e.name !== 'context' ? e.name : null;
    if (e.k === 'member' && !e.cond) {
      const q = this.qualified(e.target);
      return q === null ? null : `${q}.${e.name}`;
    }
    return null;
  }

  private staticOf(e: Expr): StaticDesc | undefined {
    const q = this.qualified(e);
    if (q === null) return undefined;
    const s = stripNamespace(q);
    return s === null ? undefined : staticType(s);
  }

  expr(e: Expr): Ev {
    switch (e.k) {
      case 'lit': {
        const v = e.value;
        return (f) => {
          if (--f.left < 0) budgetExceeded();
          return v;
        };
      }
      case 'name':
        return this.name(e.name, e.off);
      case 'member':
        return this.member(e);
      case 'index':
        return this.index(e);
      case 'call':
        return this.call(e);
      case 'chain': {
        const inner = this.expr(e.e);
        return (f) => {
          const v = inner(f);
          return v === SHORT ? null : v;
        };
      }
      case 'unary':
        return this.unary(e.op, this.expr(e.e), e.off);
      case 'binary':
        return this.binary(e.op, this.expr(e.l), this.expr(e.r), e.off);
      case 'cond': {
        const [c, t, fl] = [this.expr(e.c), this.expr(e.t), this.expr(e.f)];
        return (f) => {
          if (--f.left < 0) budgetExceeded();
          let b: boolean;
          try {
            b = truth(c(f));
          } catch (err) {
            located(err, e.off);
          }
          return b ? t(f) : fl(f);
        };
      }
      case 'assign':
      case 'incdec':
        return compileAssign(this, e);
      case 'cast': {
        const ct = resolveType(e.type);
        const inner = this.expr(e.e);
        return (f) => {
          if (--f.left < 0) budgetExceeded();
          try {
            return castTo(inner(f), ct);
          } catch (err) {
            located(err, e.off);
          }
        };
      }
      case 'is':
        return this.isExpr(e);
      case 'as': {
        const ct = resolveType(e.type);
        const inner = this.expr(e.e);
        return (f) => {
          if (--f.left < 0) budgetExceeded();
          return asType(inner(f), ct);
        };
      }
      case 'lambda':
        return fail('A lambda expression is only supported as a method argument (e.g. in LINQ)', e.off);
      case 'out':
        return fail("'out' is only valid in a method argument", e.off);
      case 'new':
        return compileNew(this, e.type, e.args, e.init, e.off);
      case 'newArray':
        return compileNewArray(this, e);
      case 'newAnon':
        return compileAnon(this, e);
      case 'default': {
        const v = e.type === null ? null : defaultOf(resolveType(e.type));
        return () => v;
      }
      case 'interp':
        return compileInterpolation(this, e);
    }
  }

  private name(name: string, off: number): Ev {
    const slot = this.scope.find(name);
    if (slot !== undefined) {
      const i = slot.index;
      return (f) => {
        if (--f.left < 0) budgetExceeded();
        return f.slots[i];
      };
    }
    if (name === 'context') {
      return (f) => {
        if (--f.left < 0) budgetExceeded();
        return (f.model ??= new ContextModel(f.ctx));
      };
    }
    const s = stripNamespace(name);
    if (s !== null && staticType(s) !== undefined) return fail(`'${name}' is a type, which is not valid in the given context`, off);
    if (NAMESPACES.has(name)) return fail(`'${name}' is a namespace, which is not valid in the given context`, off);
    return fail(`The name '${name}' does not exist in the current context`, off);
  }

  private member(e: Extract<Expr, { k: 'member' }>): Ev {
    const st = e.cond ? undefined : this.staticOf(e.target);
    if (st !== undefined) {
      const g = st.props.get(e.name) ?? fail(`'${st.name}' does not contain a definition for '${e.name}'`, e.off);
      return (f) => {
        if (--f.left < 0) budgetExceeded();
        try {
          return g();
        } catch (err) {
          located(err, e.off);
        }
      };
    }
    const target = this.expr(e.target);
    const { name, cond, off } = e;
    return (f) => {
      if (--f.left < 0) budgetExceeded();
      const t = target(f);
      if (t === SHORT || (cond && t === null)) return SHORT;
      try {
        return getMember(t, name);
      } catch (err) {
        located(err, off);
      }
    };
  }

  private index(e: Extract<Expr, { k: 'index' }>): Ev {
    const target = this.expr(e.target);
    const keys = e.args.map((a) => this.expr(a));
    const { cond, off } = e;
    return (f) => {
      if (--f.left < 0) budgetExceeded();
      const t = target(f);
      if (t === SHORT || (cond && t === null)) return SHORT;
      const k = keys.map((ev) => ev(f));
      try {
        return getIndex(t, k);
      } catch (err) {
        located(err, off);
      }
    };
  }

  /** Arguments: lambdas become Lambda values, `out` arguments become OutRefs bound to a slot. */
  args(args: readonly Arg[]): Ev[] {
    return args.map(({ e }) => {
      if (e.k === 'lambda') return this.lambda(e);
      if (e.k === 'out') {
        if (e.name === '_') return () => new OutRef(() => undefined);
        let slot = this.scope.find(e.name);
        if (e.decl !== null) slot = this.declare(e.name, e.off, resolveType(e.decl));
        if (slot === undefined) return fail(`The name '${e.name}' does not exist in the current context`, e.off);
        if (slot.readonly) return fail(`Cannot assign to '${e.name}' because it is a 'foreach iteration variable'`, e.off);
        const { index, type } = slot;
        return (f: Frame) => new OutRef((v) => (f.slots[index] = type === null ? v : implicitTo(v, type)));
      }
      return this.expr(e);
    });
  }

  private lambda(e: Extract<Expr, { k: 'lambda' }>): Ev {
    const outer = this.scope;
    this.scope = new Scope(outer);
    try {
      const slots = e.params.map((p) => this.declare(p.name, p.off, null).index);
      const body = e.body;
      const run = body.k === 'block' ? this.blockBody(body) : this.expr(body as Expr);
      const n = slots.length;
      return (f) => {
        if (--f.left < 0) budgetExceeded();
        return new Lambda(n, (args) => {
          for (let i = 0; i < n; i++) f.slots[slots[i] ?? 0] = args[i] ?? null;
          return run(f);
        });
      };
    } finally {
      this.scope = outer;
    }
  }

  private blockBody(s: Stmt): Ev {
    if (this.lambdaBlock === null) return fail('internal: no statement compiler', s.off);
    return this.lambdaBlock(s);
  }

  private call(e: Extract<Expr, { k: 'call' }>): Ev {
    const targs = e.targs.map(resolveType);
    if (e.target === null) return fail(`The name '${e.name}' does not exist in the current context`, e.off);
    const st = e.cond ? undefined : this.staticOf(e.target);
    const args = this.args(e.args);
    const { name, off, cond } = e;
    if (st !== undefined) {
      const m = st.methods.get(name) ?? fail(`'${st.name}' does not contain a definition for '${name}'`, off);
      if (args.length < m.min || args.length > m.max) fail(`No overload for method '${name}' takes ${args.length} arguments`, off);
      const fn = prepareCall(st, name, e.args, (n) => this.scope.find(n) !== undefined, off) ?? m.fn;
      return (f) => {
        if (--f.left < 0) budgetExceeded();
        const a = args.map((ev) => ev(f));
        try {
          chargeArgs(a);
          return settle(fn(a, targs), a);
        } catch (err) {
          located(err, off);
        }
      };
    }
    const target = this.expr(e.target);
    return (f) => {
      if (--f.left < 0) budgetExceeded();
      const t = target(f);
      if (t === SHORT || (cond && t === null)) return SHORT;
      const a = args.map((ev) => ev(f));
      try {
        return callMethod(t, name, a, targs);
      } catch (err) {
        located(err, off);
      }
    };
  }

  private unary(op: '-' | '+' | '!' | '~', inner: Ev, off: number): Ev {
    const fn = op === '-' ? negate : op === '+' ? plus : op === '!' ? not : complement;
    return (f) => {
      if (--f.left < 0) budgetExceeded();
      try {
        return fn(inner(f));
      } catch (err) {
        located(err, off);
      }
    };
  }

  private binary(op: Extract<Expr, { k: 'binary' }>['op'], l: Ev, r: Ev, off: number): Ev {
    switch (op) {
      case '&&':
      case '||': {
        const and = op === '&&';
        return (f) => {
          if (--f.left < 0) budgetExceeded();
          try {
            const a = truth(l(f));
            if (a !== and) return a;
            return truth(r(f));
          } catch (err) {
            located(err, off);
          }
        };
      }
      case '??':
        return (f) => {
          if (--f.left < 0) budgetExceeded();
          return l(f) ?? r(f);
        };
      case '==':
      case '!=': {
        const eq = op === '==';
        return (f) => {
          if (--f.left < 0) budgetExceeded();
          return csEquals(l(f), r(f)) === eq;
        };
      }
      case '<':
      case '>':
      case '<=':
      case '>=':
        return (f) => {
          if (--f.left < 0) budgetExceeded();
          const a = l(f);
          const b = r(f);
          if (typeof a === 'number' && typeof b === 'number') return op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b;
          try {
            const c = csCompare(a, b);
            return c === null || Number.isNaN(c) ? false : op === '<' ? c < 0 : op === '>' ? c > 0 : op === '<=' ? c <= 0 : c >= 0;
          } catch (err) {
            located(err, off);
          }
        };
      case '+':
      case '-':
      case '*':
      case '/':
      case '%':
        return (f) => {
          if (--f.left < 0) budgetExceeded();
          const a = l(f);
          const b = r(f);
          try {
            return arith(op, a, b);
          } catch (err) {
            located(err, off);
          }
        };
      case '&':
      case '|':
      case '^':
      case '<<':
      case '>>':
        return (f) => {
          if (--f.left < 0) budgetExceeded();
          const a = l(f);
          const b = r(f);
          try {
            return bitwise(op, a, b);
          } catch (err) {
            located(err, off);
          }
        };
    }
  }

  private isExpr(e: Extract<Expr, { k: 'is' }>): Ev {
    const inner = this.expr(e.e);
    const ct = e.type === null ? null : resolveType(e.type);
    const slot = e.decl === null || ct === null ? null : this.declare(e.decl, e.off, ct).index;
    const negateResult = e.not;
    return (f) => {
      if (--f.left < 0) budgetExceeded();
      const v = inner(f);
      const r = ct === null ? v === null : isType(v, ct);
      if (r && slot !== null) f.slots[slot] = v;
      return r !== negateResult;
    };
  }
}
