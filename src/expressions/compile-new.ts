/**
 * `new` (objects with collection initializers, arrays, anonymous objects) and interpolated strings.
 * @module
 */
import type { Arg, Expr, InitEntry, TypeRef } from './ast.ts';
import { prepareCall } from './compile-const.ts';
import { defaultOf, implicitTo } from './conversions.ts';
import { callMethod, setIndex } from './dispatch.ts';
import { CsError } from './errors.ts';
import { type Ev, type ExprCompiler, fail, located } from './frame.ts';
import { budgetExceeded, checkStringLength, joinedChars, produceItems } from './limits.ts';
import { chargeArgs, settle } from './metering.ts';
import { staticType } from './registry.ts';
import { align, formatValue } from './strings.ts';
import { resolveType } from './types.ts';
import { AnonObject } from './values.ts';

export function compileAnon(c: ExprCompiler, e: Extract<Expr, { k: 'newAnon' }>): Ev {
  const fields = e.fields.map((x) => [x.name, c.expr(x.e)] as const);
  return (f) => {
    if (--f.left < 0) budgetExceeded();
    return new AnonObject(new Map(fields.map(([n, ev]) => [n, ev(f)])));
  };
}

export function compileNew(c: ExprCompiler, type: TypeRef, rawArgs: readonly Arg[], init: readonly InitEntry[] | null, off: number): Ev {
  const ct = resolveType(type);
  const st = staticType(ct.n);
  const ctor = st?.ctor ?? fail(`The type '${ct.display}' cannot be created in policy expressions`, type.off);
  const args = c.args(rawArgs);
  if (args.length < ctor.min || args.length > ctor.max) fail(`'${ct.display}' does not contain a constructor that takes ${args.length} arguments`, off);
  const prepared = st === undefined ? null : prepareCall(st, '.ctor', rawArgs, (n) => c.scope.find(n) !== undefined, off);
  const make = prepared === null ? ctor.fn : (a: unknown[]) => prepared(a, []);
  const entries = (init ?? []).map((en) => (en.k === 'add' ? { k: 'add' as const, args: en.args.map((a) => c.expr(a)), off: en.off } : { k: 'index' as const, keys: en.index.map((a) => c.expr(a)), value: c.expr(en.value), off: en.off }));
  return (f) => {
    if (--f.left < 0) budgetExceeded();
    const a = args.map((ev) => ev(f));
    let obj: unknown;
    try {
      chargeArgs(a);
      obj = settle(make(a, ct), a);
    } catch (err) {
      located(err, off);
    }
    for (const en of entries) {
      try {
        if (en.k === 'add') callMethod(obj, 'Add', en.args.map((ev) => ev(f)), []);
        else setIndex(obj, en.keys.map((ev) => ev(f)), en.value(f));
      } catch (err) {
        located(err, en.off);
      }
    }
    return obj;
  };
}

export function compileNewArray(c: ExprCompiler, e: Extract<Expr, { k: 'newArray' }>): Ev {
  const elem = e.type === null ? null : resolveType(e.type);
  const items = e.items?.map((x) => c.expr(x)) ?? null;
  const size = e.size === null ? null : c.expr(e.size);
  const isBytes = elem !== null && elem.n === 'byte' && elem.rank === 0;
  return (f) => {
    if (--f.left < 0) budgetExceeded();
    try {
      let out: unknown[];
      if (items !== null) {
        out = items.map((ev) => (elem === null ? ev(f) : implicitTo(ev(f), elem)));
        if (size !== null && size(f) !== out.length) throw new CsError('System.ArgumentException', 'An array initializer of the wrong length');
      } else {
        const n = size === null ? 0 : size(f);
        if (typeof n !== 'number' || n < 0) throw new CsError('System.OverflowException', 'Arithmetic operation resulted in an overflow.');
        produceItems(n);
        out = new Array<unknown>(n).fill(elem === null ? null : defaultOf(elem));
      }
      if (items !== null) produceItems(out.length);
      return isBytes ? Uint8Array.from(out, (x) => (typeof x === 'number' ? x & 255 : 0)) : out;
    } catch (err) {
      located(err, e.off);
    }
  };
}

export function compileInterpolation(c: ExprCompiler, e: Extract<Expr, { k: 'interp' }>): Ev {
  const parts = e.parts.map((p) => (typeof p === 'string' ? p : { ev: c.expr(p.e), align: p.align === null ? null : c.expr(p.align), fmt: p.fmt }));
  return (f) => {
    if (--f.left < 0) budgetExceeded();
    let s = '';
    try {
      for (const p of parts) {
        if (typeof p === 'string') s += p;
        else {
          const v = formatValue(p.ev(f), p.fmt);
          const w = p.align === null ? 0 : p.align(f);
          s += typeof w === 'number' && w !== 0 ? align(v, w) : v;
        }
        checkStringLength(s.length);
      }
      joinedChars(s.length);
    } catch (err) {
      located(err, e.off);
    }
    return s;
  };
}
