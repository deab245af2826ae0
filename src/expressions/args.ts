/**
 * Argument checks for library methods. C# would reject a wrong argument type at compile time; with
 * dynamic values we reject it at run time with the binder's wording.
 * @module
 */
import { CsError, argNull } from './errors.ts';
import { JValue } from './json.ts';
import { unwrap } from './operators.ts';
import { CsChar, CsDouble, CsEnum, Lambda, OutRef, csTypeName } from './values.ts';

function badArg(i: number, v: unknown, to: string): CsError {
  return new CsError('Microsoft.CSharp.RuntimeBinder.RuntimeBinderException', `Argument ${i + 1}: cannot convert from '${csTypeName(v)}' to '${to}'`);
}

export function argAt(args: readonly unknown[], i: number): unknown {
  return args[i] ?? null;
}

/** A string argument; null only when `nullable`. */
export function str(args: readonly unknown[], i: number, param = 'value', nullable = false): string {
  const v = args[i] ?? null;
  if (typeof v === 'string') return v;
  if (v === null) {
    if (nullable) return '';
    throw argNull(param);
  }
  throw badArg(i, v, 'string');
}

export function strOrNull(args: readonly unknown[], i: number): string | null {
  const v = args[i] ?? null;
  if (v === null || typeof v === 'string') return v;
  throw badArg(i, v, 'string');
}

/** An int argument (a char converts implicitly, as in C#). */
export function int(args: readonly unknown[], i: number): number {
  const v = args[i];
  if (typeof v === 'number') return v;
  if (v instanceof CsChar) return v.code;
  if (v instanceof CsEnum) return v.value;
  throw badArg(i, v, 'int');
}

/** A number argument for methods taking double (ints widen). */
export function num(args: readonly unknown[], i: number): number {
  const v = args[i];
  if (typeof v === 'number') return v;
  if (v instanceof CsDouble) return v.v;
  if (v instanceof CsChar) return v.code;
  if (v instanceof JValue && typeof v.value === 'number') return v.value;
  throw badArg(i, v, 'double');
}

export function isNum(v: unknown): boolean {
  return typeof v === 'number' || v instanceof CsDouble;
}

export function bool(args: readonly unknown[], i: number): boolean {
  const v = unwrap(args[i]);
  if (typeof v === 'boolean') return v;
  throw badArg(i, args[i], 'bool');
}

/** A char or string argument as a string. */
export function charOrStr(args: readonly unknown[], i: number, param = 'value'): string {
  const v = args[i] ?? null;
  if (v instanceof CsChar) return v.c;
  return str(args, i, param);
}

export function lambda(args: readonly unknown[], i: number, arity?: number): Lambda {
  const v = args[i];
  if (v instanceof Lambda && (arity === undefined || v.arity === arity)) return v;
  if (v === null || v === undefined) throw argNull('predicate');
  throw badArg(i, v, 'Func');
}

export function out(args: readonly unknown[], i: number): OutRef {
  const v = args[i];
  if (v instanceof OutRef) return v;
  throw new CsError('Microsoft.CSharp.RuntimeBinder.RuntimeBinderException', `Argument ${i + 1} must be passed with the 'out' keyword`);
}

/** The StringComparison argument asks to ignore case. */
export function ignoreCase(v: unknown): boolean {
  if (v instanceof CsEnum && (v.type === 'System.StringComparison' || v.type === 'System.StringComparer')) return v.name.endsWith('IgnoreCase');
  if (typeof v === 'boolean') return v;
  return false;
}

export function enumOf(v: unknown, type: string): CsEnum | null {
  return v instanceof CsEnum && v.type === type ? v : null;
}
