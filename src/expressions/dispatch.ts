/**
 * Runtime member access: properties, methods (with LINQ as the extension-method fallback),
 * indexers. Everything resolves through registry.ts tables; importing this module loads every
 * table, which is why the member modules are imported here for their side effects.
 * @module
 */
import './authorization.ts';
import './context-model.ts';
import './core-members.ts';
import './datetime-members.ts';
import './json-members.ts';
import './regex-members.ts';
import './crypto.ts';
import './hashset.ts';
import './uri.ts';
import './statics.ts';
import './strings.ts';
import { CsError, noMember, nullRef } from './errors.ts';
import { LINQ, isEnumerable } from './linq.ts';
import { chargeArgs, chargeKeys, settle, settleProperty } from './metering.ts';
import { csEquals } from './operators.ts';
import { type TypeDesc, descOf } from './registry.ts';
import { formatValue } from './strings.ts';
import type { CType } from './types.ts';
import { AnonObject, CsEnum, csString, csTypeName } from './values.ts';

function typeLabel(d: TypeDesc, v: unknown): string {
  return d.name === 'System.Object' ? csTypeName(v) : d.name;
}

export function getMember(target: unknown, name: string): unknown {
  if (target === null || target === undefined) throw nullRef();
  if (target instanceof AnonObject && target.fields.has(name)) return target.fields.get(name);
  const d = descOf(target);
  const g = d.props.get(name);
  if (g === undefined) throw noMember(typeLabel(d, target), name);
  return settleProperty(g(target), target);
}

export function setMember(target: unknown, name: string, value: unknown): void {
  if (target === null || target === undefined) throw nullRef();
  const d = descOf(target);
  const s = d.setters.get(name);
  if (s === undefined) {
    if (d.props.has(name)) throw new CsError('Microsoft.CSharp.RuntimeBinder.RuntimeBinderException', `Property or indexer '${typeLabel(d, target)}.${name}' cannot be assigned to -- it is read only`);
    throw noMember(typeLabel(d, target), name);
  }
  s(target, value);
}

function arity(name: string, n: number): CsError {
  return new CsError('Microsoft.CSharp.RuntimeBinder.RuntimeBinderException', `No overload for method '${name}' takes ${n} arguments`);
}

export function callMethod(target: unknown, name: string, args: unknown[], targs: readonly CType[]): unknown {
  if (target === null || target === undefined) throw nullRef();
  const d = descOf(target);
  const m = d.methods.get(name);
  chargeArgs(args);
  if (m !== undefined) {
    if (args.length < m.min || args.length > m.max) throw arity(name, args.length);
    return settle(m.fn(target, args, targs), args, target);
  }
  // Members of System.Object every value has.
  if (name === 'ToString' && args.length <= 2) {
    const f = args[0];
    return settle(typeof f === 'string' ? formatValue(target, f) : csString(target), args, target);
  }
  if (name === 'Equals' && args.length === 1) return settle(csEquals(target, args[0]), args);
  if (name === 'GetHashCode' && args.length === 0) return 0;
  if (name === 'GetType') throw new CsError('System.NotSupportedException', 'GetType() is not available in policy expressions; use `is` instead.');
  const ext = LINQ.get(name);
  if (ext !== undefined && !(target instanceof CsEnum) && isEnumerable(target)) {
    if (args.length < ext.min || args.length > ext.max) throw arity(name, args.length);
    return settle(ext.fn(target, args, targs), args, target);
  }
  throw noMember(typeLabel(d, target), name);
}

export function getIndex(target: unknown, keys: unknown[]): unknown {
  if (target === null || target === undefined) throw nullRef();
  const d = descOf(target);
  if (d.index === null) throw new CsError('Microsoft.CSharp.RuntimeBinder.RuntimeBinderException', `Cannot apply indexing with [] to an expression of type '${typeLabel(d, target)}'`);
  chargeKeys(keys);
  return d.index(target, keys);
}

export function setIndex(target: unknown, keys: unknown[], value: unknown): void {
  if (target === null || target === undefined) throw nullRef();
  const d = descOf(target);
  if (d.setIndex === null) {
    const what = d.index === null ? 'Cannot apply indexing with [] to an expression of type' : 'Property or indexer cannot be assigned to -- it is read only:';
    throw new CsError('Microsoft.CSharp.RuntimeBinder.RuntimeBinderException', `${what} '${typeLabel(d, target)}'`);
  }
  chargeKeys(keys);
  d.setIndex(target, keys, value);
}
