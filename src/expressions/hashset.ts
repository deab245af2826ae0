/**
 * `HashSet<T>` (and `ISet<T>`): `new HashSet<string>()`, with a comparer
 * (`StringComparer.OrdinalIgnoreCase`), from a collection, or with a collection initializer;
 * `Add`, `Contains`, `Remove`, `Count`, `Clear`, the set operations, and LINQ over it (it is
 * enumerable in insertion order, as .NET's is until something is removed). Keys are compared as
 * Dictionary keys are (values.ts), so the two agree on what "equal" means.
 * @module
 */
import { CsError } from './errors.ts';
import { chargeWork } from './limits.ts';
import { toSeq } from './linq.ts';
import { defineStatic, defineType } from './registry.ts';
import { CsDict, CsEnum, Host } from './values.ts';

export class CsHashSet extends Host {
  readonly dict: CsDict;
  constructor(ignoreCase: boolean) {
    super();
    this.dict = new CsDict(ignoreCase);
  }
  get kind(): string {
    return 'HashSet';
  }
  override get typeName(): string {
    return 'System.Collections.Generic.HashSet`1';
  }
  override enumerate(): readonly unknown[] {
    return [...this.dict.map.values()].map((kv) => kv.key);
  }
  has(v: unknown): boolean {
    return this.dict.get(v) !== undefined;
  }
  add(v: unknown): boolean {
    if (this.has(v)) return false;
    this.dict.set(v, true);
    return true;
  }
  remove(v: unknown): boolean {
    return this.dict.map.delete(this.dict.norm(v));
  }
}

/** The elements of a collection argument, charged for visiting them. */
function items(v: unknown): readonly unknown[] {
  const seq = v === null || v === undefined ? null : toSeq(v);
  if (seq === null) throw new CsError('System.ArgumentNullException', "Value cannot be null. (Parameter 'other')");
  chargeWork(seq.length * 64);
  return seq;
}

/** A set of `v`'s elements compared as `like` compares them. */
function setLike(like: CsHashSet, v: unknown): CsHashSet {
  const other = new CsHashSet(like.dict.ignoreCase);
  for (const x of items(v)) other.add(x);
  return other;
}

defineStatic(['HashSet'], {
  ctor: [0, 2, (a) => {
    const cmp = a.find((x): x is CsEnum => x instanceof CsEnum);
    const set = new CsHashSet(cmp?.name.endsWith('IgnoreCase') ?? false);
    const src = a.find((x) => !(x instanceof CsEnum) && x !== null && typeof x !== 'number');
    if (src !== undefined) for (const x of items(src)) set.add(x);
    return set;
  }],
});

defineType<CsHashSet>('HashSet', 'System.Collections.Generic.HashSet`1', {
  props: { Count: (s) => s.dict.map.size },
  methods: {
    Add: [1, 1, (s, a) => s.add(a[0] ?? null)],
    Contains: [1, 1, (s, a) => s.has(a[0] ?? null)],
    Remove: [1, 1, (s, a) => s.remove(a[0] ?? null)],
    Clear: [0, 0, (s) => void s.dict.map.clear()],
    UnionWith: [1, 1, (s, a) => void items(a[0]).forEach((x) => s.add(x))],
    ExceptWith: [1, 1, (s, a) => void items(a[0]).forEach((x) => s.remove(x))],
    IntersectWith: [1, 1, (s, a) => {
      const other = setLike(s, a[0]);
      for (const x of s.enumerate()) if (!other.has(x)) s.remove(x);
    }],
    Overlaps: [1, 1, (s, a) => items(a[0]).some((x) => s.has(x))],
    IsSubsetOf: [1, 1, (s, a) => {
      const other = setLike(s, a[0]);
      return s.enumerate().every((x) => other.has(x));
    }],
    IsSupersetOf: [1, 1, (s, a) => items(a[0]).every((x) => s.has(x))],
    SetEquals: [1, 1, (s, a) => {
      const other = setLike(s, a[0]);
      return other.dict.map.size === s.dict.map.size && s.enumerate().every((x) => other.has(x));
    }],
  },
});
