/**
 * Member tables: the only way an expression reaches a property or method. Each C# type the
 * sandbox knows is a `TypeDesc` built from an object literal once at import; lookups go through
 * `Map`s of names we wrote, never through a JS property access by a name taken from the
 * expression, so `__proto__`, `constructor` and friends simply do not exist.
 * @module
 */
import type { CType } from './types.ts';
import { Host } from './values.ts';

export type Getter = (self: unknown) => unknown;
export type Setter = (self: unknown, value: unknown) => void;
export type MethodFn = (self: unknown, args: unknown[], targs: readonly CType[]) => unknown;

export interface MethodDef {
  readonly min: number;
  readonly max: number;
  readonly fn: MethodFn;
}

export interface TypeDesc {
  /** C# type name for messages. */
  readonly name: string;
  readonly props: ReadonlyMap<string, Getter>;
  readonly setters: ReadonlyMap<string, Setter>;
  readonly methods: ReadonlyMap<string, MethodDef>;
  readonly index: ((self: unknown, keys: unknown[]) => unknown) | null;
  readonly setIndex: ((self: unknown, keys: unknown[], value: unknown) => void) | null;
}

/** `[min, max, fn]`; max may be Infinity for params arrays. */
export type MethodSpec<T> = readonly [number, number, (self: T, args: unknown[], targs: readonly CType[]) => unknown];

export interface TypeSpec<T> {
  readonly props?: Readonly<Record<string, (self: T) => unknown>>;
  readonly setters?: Readonly<Record<string, (self: T, value: unknown) => void>>;
  readonly methods?: Readonly<Record<string, MethodSpec<T>>>;
  readonly index?: (self: T, keys: unknown[]) => unknown;
  readonly setIndex?: (self: T, keys: unknown[], value: unknown) => void;
}

const registry = new Map<string, TypeDesc>();

/** Builds the member table of `kind` (a Host's `kind`, or a primitive key such as `System.String`). */
export function defineType<T>(kind: string, name: string, spec: TypeSpec<T>): TypeDesc {
  const wrap = <A extends unknown[], R>(f: (self: T, ...a: A) => R) => (self: unknown, ...a: A): R => f(self as T, ...a);
  const desc: TypeDesc = {
    name,
    props: new Map(Object.entries(spec.props ?? {}).map(([k, f]) => [k, wrap(f)])),
    setters: new Map(Object.entries(spec.setters ?? {}).map(([k, f]) => [k, wrap(f)])),
    methods: new Map(Object.entries(spec.methods ?? {}).map(([k, [min, max, f]]) => [k, { min, max, fn: wrap(f) }])),
    index: spec.index === undefined ? null : wrap(spec.index),
    setIndex: spec.setIndex === undefined ? null : wrap(spec.setIndex),
  };
  registry.set(kind, desc);
  return desc;
}

/** The member table registered for `kind`, if any (the load-time check of `context` members reads it). */
export function typeByKind(kind: string): TypeDesc | undefined {
  return registry.get(kind);
}

const OBJECT: TypeDesc = {
  name: 'System.Object',
  props: new Map(),
  setters: new Map(),
  methods: new Map(),
  index: null,
  setIndex: null,
};

/** The member table for a (non-null) value. Unknown host objects get System.Object's (nothing). */
export function descOf(v: unknown): TypeDesc {
  let kind: string;
  switch (typeof v) {
    case 'string':
      kind = 'System.String';
      break;
    case 'number':
      kind = 'System.Int32';
      break;
    case 'boolean':
      kind = 'System.Boolean';
      break;
    case 'object':
      if (v instanceof Host) kind = v.kind;
      else if (v instanceof Uint8Array) kind = 'System.Byte[]';
      else if (Array.isArray(v)) kind = 'System.Array';
      else return OBJECT;
      break;
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      return OBJECT;
  }
  return registry.get(kind) ?? OBJECT;
}

// ---- static members: `Math.Max`, `DateTime.UtcNow`, `new JObject(...)` ----

export interface StaticMethod {
  readonly min: number;
  readonly max: number;
  readonly fn: (args: unknown[], targs: readonly CType[]) => unknown;
}

/** An argument whose value is not known at compile time (see `prepare`). */
export const NOT_CONST: unique symbol = Symbol('not-const');
export type StaticFn = (args: unknown[], targs: readonly CType[]) => unknown;
/**
 * Load-time preparation of a call from its constant arguments (NOT_CONST where unknown): returns
 * the function to run instead (e.g. with a pattern compiled once), or null to keep the generic one.
 * Throws a CsError for a constant argument that can never work; the compiler makes it a load error.
 */
export type Prepare = (consts: readonly unknown[]) => StaticFn | null;

export interface StaticDesc {
  readonly name: string;
  /** By method name, `.ctor` for the constructor. */
  readonly prepare: ReadonlyMap<string, Prepare>;
  readonly props: ReadonlyMap<string, () => unknown>;
  readonly methods: ReadonlyMap<string, StaticMethod>;
  /** `new T(args)`; `type` carries generic arguments (`List<string>`). */
  readonly ctor: { readonly min: number; readonly max: number; readonly fn: (args: unknown[], type: CType) => unknown } | null;
}

export interface StaticSpec {
  readonly props?: Readonly<Record<string, () => unknown>>;
  readonly methods?: Readonly<Record<string, readonly [number, number, (args: unknown[], targs: readonly CType[]) => unknown]>>;
  readonly ctor?: readonly [number, number, (args: unknown[], type: CType) => unknown];
  readonly prepare?: Readonly<Record<string, Prepare>>;
}

const statics = new Map<string, StaticDesc>();

/** Registers a static type under each of its names (`string`, `String`). */
export function defineStatic(names: readonly string[], spec: StaticSpec): void {
  const [name = ''] = names;
  const desc: StaticDesc = {
    name,
    prepare: new Map(Object.entries(spec.prepare ?? {})),
    props: new Map(Object.entries(spec.props ?? {})),
    methods: new Map(Object.entries(spec.methods ?? {}).map(([k, [min, max, fn]]) => [k, { min, max, fn }])),
    ctor: spec.ctor === undefined ? null : { min: spec.ctor[0], max: spec.ctor[1], fn: spec.ctor[2] },
  };
  for (const n of names) statics.set(n, desc);
}

export function staticType(name: string): StaticDesc | undefined {
  return statics.get(name);
}
