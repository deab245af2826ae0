/**
 * Compile-time constants of call arguments, so that a library call with constant arguments can be
 * prepared once at load (a `Regex` pattern compiled, and refused at load when it cannot work)
 * instead of on every request. Only what cannot have side effects counts as constant: literals,
 * enum members (`RegexOptions.IgnoreCase`) and `|`/`&` of constants.
 * @module
 */
import type { Arg, Expr } from './ast.ts';
import { CsError } from './errors.ts';
import { fail } from './frame.ts';
import { bitwise } from './operators.ts';
import { NOT_CONST, type StaticDesc, type StaticFn, staticType } from './registry.ts';
import { stripNamespace } from './types.ts';
import { CsEnum } from './values.ts';

/** The value of `e` when it is a compile-time constant, else NOT_CONST. `isLocal` tells locals from type names. */
export function constValue(e: Expr, isLocal: (name: string) => boolean): unknown {
  if (e.k === 'lit') return e.value;
  if (e.k === 'member') {
    if (e.cond) return NOT_CONST;
    const q = qualified(e.target, isLocal);
    const st = q === null ? undefined : staticType(stripNamespace(q) ?? '');
    const g = st?.props.get(e.name);
    if (g === undefined) return NOT_CONST;
    const v = g();
    return v instanceof CsEnum ? v : NOT_CONST;
  }
  if (e.k === 'binary' && (e.op === '|' || e.op === '&')) {
    const l = constValue(e.l, isLocal);
    const r = constValue(e.r, isLocal);
    if (l === NOT_CONST || r === NOT_CONST) return NOT_CONST;
    try {
      return bitwise(e.op, l, r);
    } catch {
      return NOT_CONST;
    }
  }
  return NOT_CONST;
}

function qualified(e: Expr, isLocal: (name: string) => boolean): string | null {
  if (e.k === 'name') return isLocal(e.name) ? null : e.name;
  if (e.k === 'member' && !e.cond) {
    const q = qualified(e.target, isLocal);
    return q === null ? null : `${q}.${e.name}`;
  }
  return null;
}

/**
 * The prepared function for `st.key(args)` when the type prepares that member and its constant
 * arguments allow; a constant argument that can never work is a load error at the call.
 */
export function prepareCall(st: StaticDesc, key: string, args: readonly Arg[], isLocal: (name: string) => boolean, off: number): StaticFn | null {
  const prep = st.prepare.get(key);
  if (prep === undefined) return null;
  const consts = args.map((a) => constValue(a.e, isLocal));
  if (consts.every((c) => c === NOT_CONST)) return null;
  try {
    return prep(consts);
  } catch (err) {
    if (err instanceof CsError) return fail(err.message, args.find((a) => a.e.k === 'lit')?.e.off ?? off);
    throw err;
  }
}
