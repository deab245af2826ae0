/**
 * How C# values live in JS. Chosen so the common values cost nothing to represent:
 *   string → string, bool → boolean, null → null, int/long → integral number,
 *   double → `CsDouble` (boxed so `7 / 2 == 3` and `7.0 / 2 == 3.5` can both hold),
 *   char → `CsChar`, T[] → JS array, byte[] → Uint8Array, everything else → a `Host` subclass.
 * Members are never looked up on these objects by name: registry.ts maps a Host's `kind` to a
 * table of members, so `x.constructor` or `x.__proto__` in an expression finds nothing.
 * @module
 */
import { formatDouble, formatNumber } from './numbers.ts';
import { checkCount } from './limits.ts';

export abstract class Host {
  /** Key of this type's member table in registry.ts. */
  abstract get kind(): string;
  /** Full C# type name, for messages and the default ToString(). */
  get typeName(): string {
    return this.kind;
  }
  /** C# `ToString()`. */
  toCs(): string {
    return this.typeName;
  }
  /** `ToString(format)`; types without formats ignore it, as C#'s `object.ToString()` would not compile. */
  formatWith(_fmt: string): string {
    return this.toCs();
  }
  /** Whether the value is also a `name` (a base type or interface), beyond its own `kind`. */
  isA(_name: string): boolean {
    return false;
  }
  /** The elements, when the value is enumerable (`foreach`, LINQ); null otherwise. */
  enumerate(): readonly unknown[] | null {
    return null;
  }
}

export class CsDouble extends Host {
  readonly v: number;
  constructor(v: number) {
    super();
    this.v = v;
  }
  get kind(): string {
    return 'System.Double';
  }
  override toCs(): string {
    return formatDouble(this.v);
  }
  override formatWith(fmt: string): string {
    return formatNumber(this.v, false, fmt);
  }
}

export const dbl = (v: number): CsDouble => new CsDouble(v);

const charCache: CsChar[] = [];

export class CsChar extends Host {
  readonly c: string;
  private constructor(c: string) {
    super();
    this.c = c;
  }
  static of(c: string): CsChar {
    const code = c.charCodeAt(0);
    if (code < 256) return (charCache[code] ??= new CsChar(c));
    return new CsChar(c);
  }
  get code(): number {
    return this.c.charCodeAt(0);
  }
  get kind(): string {
    return 'System.Char';
  }
  override toCs(): string {
    return this.c;
  }
}

/** An enum member (`StringComparison.OrdinalIgnoreCase`, `JTokenType.String`...), interned so `==` is identity. */
export class CsEnum extends Host {
  readonly type: string;
  readonly name: string;
  readonly value: number;
  constructor(type: string, name: string, value: number) {
    super();
    this.type = type;
    this.name = name;
    this.value = value;
  }
  get kind(): string {
    return 'System.Enum';
  }
  override get typeName(): string {
    return this.type;
  }
  override toCs(): string {
    return this.name;
  }
}

const enums = new Map<string, Map<string, CsEnum>>();

export function defineEnum(type: string, names: readonly string[]): ReadonlyMap<string, CsEnum> {
  const m = new Map<string, CsEnum>();
  names.forEach((n, i) => m.set(n, new CsEnum(type, n, i)));
  enums.set(type, m);
  return m;
}

/** A `[Flags]` enum: members with explicit values, combined with `|` (operators.ts). */
export function defineFlags(type: string, members: Readonly<Record<string, number>>): ReadonlyMap<string, CsEnum> {
  const m = new Map<string, CsEnum>();
  for (const [n, v] of Object.entries(members)) m.set(n, new CsEnum(type, n, v));
  enums.set(type, m);
  return m;
}

/** The value `v` of flags enum `type`: a member when one has that value, else a combination named as .NET prints it. */
export function flagsValue(type: string, v: number): CsEnum {
  const members = [...(enums.get(type)?.values() ?? [])];
  const exact = members.find((e) => e.value === v);
  if (exact !== undefined) return exact;
  const names = members.filter((e) => e.value !== 0 && (v & e.value) === e.value).map((e) => e.name);
  return new CsEnum(type, names.length > 0 ? names.join(', ') : String(v), v);
}

export function enumValue(type: string, name: string): CsEnum {
  const v = enums.get(type)?.get(name);
  if (v === undefined) throw new Error(`internal: no enum ${type}.${name}`);
  return v;
}

/** The target of an `out` argument. */
export class OutRef {
  readonly set: (v: unknown) => void;
  constructor(set: (v: unknown) => void) {
    this.set = set;
  }
}

/** A lambda passed to a method (LINQ); `call` runs its body with the arguments bound. */
export class Lambda extends Host {
  readonly arity: number;
  readonly call: (args: readonly unknown[]) => unknown;
  constructor(arity: number, call: (args: readonly unknown[]) => unknown) {
    super();
    this.arity = arity;
    this.call = call;
  }
  get kind(): string {
    return 'System.Func';
  }
}

export class CsList extends Host {
  readonly items: unknown[];
  readonly elem: string;
  constructor(items: unknown[], elem = 'System.Object') {
    super();
    checkCount(items.length);
    this.items = items;
    this.elem = elem;
  }
  get kind(): string {
    return 'List';
  }
  override get typeName(): string {
    return `System.Collections.Generic.List\`1[${this.elem}]`;
  }
  override enumerate(): readonly unknown[] {
    return this.items;
  }
}

export class KeyValue extends Host {
  readonly key: unknown;
  readonly value: unknown;
  constructor(key: unknown, value: unknown) {
    super();
    this.key = key;
    this.value = value;
  }
  get kind(): string {
    return 'KeyValuePair';
  }
  override toCs(): string {
    return `[${csString(this.key)}, ${csString(this.value)}]`;
  }
}

/** `Dictionary<K,V>`: insertion-ordered, keys compared as C# would (strings ordinal, or ignoring case). */
export class CsDict extends Host {
  readonly map = new Map<unknown, KeyValue>();
  readonly ignoreCase: boolean;
  constructor(ignoreCase = false) {
    super();
    this.ignoreCase = ignoreCase;
  }
  get kind(): string {
    return 'Dictionary';
  }
  override get typeName(): string {
    return 'System.Collections.Generic.Dictionary`2';
  }
  norm(k: unknown): unknown {
    if (typeof k === 'string') return this.ignoreCase ? k.toUpperCase() : k;
    if (k instanceof CsChar) return `\u0000c${k.c}`;
    if (k instanceof CsDouble) return k.v;
    return k;
  }
  get(k: unknown): KeyValue | undefined {
    return this.map.get(this.norm(k));
  }
  set(k: unknown, v: unknown): void {
    checkCount(this.map.size + 1);
    this.map.set(this.norm(k), new KeyValue(this.get(k)?.key ?? k, v));
  }
  override enumerate(): readonly unknown[] {
    return [...this.map.values()];
  }
}

/** `new { a = 1, b = "x" }`. */
export class AnonObject extends Host {
  readonly fields: ReadonlyMap<string, unknown>;
  constructor(fields: ReadonlyMap<string, unknown>) {
    super();
    this.fields = fields;
  }
  get kind(): string {
    return 'Anonymous';
  }
  override get typeName(): string {
    return '<>f__AnonymousType';
  }
  override toCs(): string {
    const parts = [...this.fields].map(([k, v]) => `${k} = ${csString(v)}`);
    return parts.length === 0 ? '{ }' : `{ ${parts.join(', ')} }`;
  }
}

/** Type name of a value, as .NET's `GetType().FullName` would print it. */
export function csTypeName(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return 'System.String';
    case 'boolean':
      return 'System.Boolean';
    case 'number':
      return Math.abs(v) <= 2147483647 ? 'System.Int32' : 'System.Int64';
    case 'object':
      if (v === null) return 'null';
      if (v instanceof Host) return v.typeName;
      if (v instanceof Uint8Array) return 'System.Byte[]';
      if (Array.isArray(v)) return `${arrayElemName(v as unknown[])}[]`;
      return 'System.Object';
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      return 'System.Object';
  }
}

/** A guess from the first elements (an array carries no element type here); bounded so ToString stays O(1). */
function arrayElemName(a: readonly unknown[]): string {
  const head = a.slice(0, 16);
  if (head.length > 0 && head.every((x) => typeof x === 'string')) return 'System.String';
  if (head.length > 0 && head.every((x) => typeof x === 'number')) return 'System.Int32';
  return 'System.Object';
}

/**
 * C# `ToString()` of any value. `null` gives "" (as string concatenation and APIM's attribute
 * conversion do); bool is "True"/"False"; arrays print their type name, as in C#.
 */
export function csString(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'boolean':
      return v ? 'True' : 'False';
    case 'number':
      return Number.isInteger(v) ? (Number.isSafeInteger(v) ? String(v) : formatNumber(v, true, '')) : formatDouble(v);
    case 'undefined':
      return '';
    case 'object':
      if (v === null) return '';
      if (v instanceof Host) return v.toCs();
      return csTypeName(v);
    case 'bigint':
    case 'function':
    case 'symbol':
      return 'System.Object';
  }
}
