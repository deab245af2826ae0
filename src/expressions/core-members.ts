/**
 * Members of the primitive and collection types: numbers, bool, char, enums, arrays, byte[],
 * List<T>, Dictionary<K,V>, KeyValuePair, Random, exceptions and encodings.
 * @module
 */
import { argAt, int, lambda, out } from './args.ts';
import { CsError, argError, argNull, indexOutOfRange, keyNotFound, outOfRange } from './errors.ts';
import { checkBytes, checkCount, chargeWork, produceItems, random } from './limits.ts';
import { orderCompare, toSeq } from './linq.ts';
import { formatNumber } from './numbers.ts';
import { csEquals, truth } from './operators.ts';
import { defineType } from './registry.ts';
import { AnonObject, CsChar, CsDict, CsDouble, CsEnum, CsList, Host, KeyValue, csString } from './values.ts';
import { createPrng } from '../util/hash.ts';

const toStr = (v: unknown, a: unknown[]): string => (typeof a[0] === 'string' ? (typeof v === 'number' ? formatNumber(v, true, a[0]) : v instanceof Host ? v.formatWith(a[0]) : csString(v)) : csString(v));
const compare = (v: unknown, a: unknown[]): number => (argAt(a, 0) === null ? 1 : Math.sign(orderCompare(v, a[0])));

defineType<number>('System.Int32', 'System.Int32', { methods: { ToString: [0, 2, toStr], CompareTo: [1, 1, compare] } });
defineType<CsDouble>('System.Double', 'System.Double', { methods: { ToString: [0, 2, toStr], CompareTo: [1, 1, compare] } });
defineType<boolean>('System.Boolean', 'System.Boolean', { methods: { ToString: [0, 1, (b) => csString(b)], CompareTo: [1, 1, compare] } });
defineType<CsChar>('System.Char', 'System.Char', { methods: { ToString: [0, 1, (c) => c.c], CompareTo: [1, 1, compare] } });
defineType<CsEnum>('System.Enum', 'System.Enum', { methods: { ToString: [0, 1, (e) => e.name], HasFlag: [1, 1, (e, a) => a[0] instanceof CsEnum && (e.value & a[0].value) === a[0].value] } });
defineType<AnonObject>('Anonymous', 'AnonymousType', {});
defineType<KeyValue>('KeyValuePair', 'System.Collections.Generic.KeyValuePair`2', { props: { Key: (kv) => kv.key, Value: (kv) => kv.value } });

function arrayIndex(len: number, keys: unknown[]): number {
  const i = keys[0];
  if (keys.length !== 1 || typeof i !== 'number') throw argError('An array index must be one int.');
  if (i < 0 || i >= len) throw indexOutOfRange();
  return i;
}

defineType<unknown[]>('System.Array', 'System.Array', {
  props: { Length: (a) => a.length, LongLength: (a) => a.length, Rank: () => 1 },
  index: (a, k) => a[arrayIndex(a.length, k)],
  setIndex: (a, k, v) => {
    a[arrayIndex(a.length, k)] = v;
  },
  methods: { Clone: [0, 0, (a) => (chargeWork(a.length), [...a])] },
});

defineType<Uint8Array>('System.Byte[]', 'System.Byte[]', {
  props: { Length: (a) => a.length, LongLength: (a) => a.length },
  index: (a, k) => a[arrayIndex(a.length, k)],
  setIndex: (a, k, v) => {
    a[arrayIndex(a.length, k)] = typeof v === 'number' ? v : 0;
  },
});

function listIndex(l: CsList, keys: unknown[]): number {
  const i = keys[0];
  if (keys.length !== 1 || typeof i !== 'number') throw argError('A list index must be one int.');
  if (i < 0 || i >= l.items.length) throw outOfRange();
  return i;
}

function addAll(l: CsList, items: readonly unknown[]): void {
  checkCount(l.items.length + items.length);
  produceItems(items.length);
  l.items.push(...items);
}

function seq(v: unknown): readonly unknown[] {
  if (v === null || v === undefined) throw argNull('collection');
  const s = toSeq(v);
  if (s === null) throw argError('Expected a sequence.');
  return s;
}

const find = (l: CsList, a: unknown[]): number => {
  const f = lambda(a, 0, 1);
  return l.items.findIndex((x) => truth(f.call([x])));
};

defineType<CsList>('List', 'System.Collections.Generic.List`1', {
  props: { Count: (l) => l.items.length, Capacity: (l) => l.items.length },
  index: (l, k) => l.items[listIndex(l, k)],
  setIndex: (l, k, v) => {
    l.items[listIndex(l, k)] = v;
  },
  methods: {
    Add: [1, 1, (l, a) => void addAll(l, [argAt(a, 0)])],
    AddRange: [1, 1, (l, a) => void addAll(l, [...seq(a[0])])],
    Insert: [2, 2, (l, a) => {
      const i = int(a, 0);
      if (i < 0 || i > l.items.length) throw outOfRange();
      checkCount(l.items.length + 1);
      // Inserting shifts every later element.
      chargeWork(l.items.length - i);
      l.items.splice(i, 0, argAt(a, 1));
    }],
    Remove: [1, 1, (l, a) => {
      chargeWork(l.items.length);
      const i = l.items.findIndex((x) => csEquals(x, a[0]));
      if (i >= 0) l.items.splice(i, 1);
      return i >= 0;
    }],
    RemoveAt: [1, 1, (l, a) => {
      const i = listIndex(l, [a[0]]);
      chargeWork(l.items.length - i);
      l.items.splice(i, 1);
    }],
    RemoveAll: [1, 1, (l, a) => {
      chargeWork(l.items.length);
      const f = lambda(a, 0, 1);
      const keep = l.items.filter((x) => !truth(f.call([x])));
      const removed = l.items.length - keep.length;
      l.items.splice(0, l.items.length, ...keep);
      return removed;
    }],
    Clear: [0, 0, (l) => void l.items.splice(0)],
    Contains: [1, 1, (l, a) => (chargeWork(l.items.length), l.items.some((x) => csEquals(x, a[0])))],
    IndexOf: [1, 1, (l, a) => (chargeWork(l.items.length), l.items.findIndex((x) => csEquals(x, a[0])))],
    ToArray: [0, 0, (l) => (chargeWork(l.items.length), [...l.items])],
    Sort: [0, 0, (l) => {
      // n log n comparisons; orderCompare charges long strings by the characters each comparison reads.
      chargeWork(l.items.length * Math.max(1, Math.ceil(Math.log2(l.items.length + 1))));
      l.items.sort(orderCompare);
    }],
    Reverse: [0, 0, (l) => void (chargeWork(l.items.length), l.items.reverse())],
    Find: [1, 1, (l, a) => l.items[find(l, a)] ?? null],
    FindIndex: [1, 1, find],
    FindAll: [1, 1, (l, a) => {
      const f = lambda(a, 0, 1);
      return new CsList(l.items.filter((x) => truth(f.call([x]))), l.elem);
    }],
    Exists: [1, 1, (l, a) => find(l, a) >= 0],
    TrueForAll: [1, 1, (l, a) => {
      const f = lambda(a, 0, 1);
      return l.items.every((x) => truth(f.call([x])));
    }],
    ForEach: [1, 1, (l, a) => {
      const f = lambda(a, 0, 1);
      for (const x of [...l.items]) f.call([x]);
    }],
    GetRange: [2, 2, (l, a) => {
      const i = int(a, 0);
      const n = int(a, 1);
      if (i < 0 || n < 0 || i + n > l.items.length) throw outOfRange();
      return new CsList(l.items.slice(i, i + n), l.elem);
    }],
  },
});

function dictGet(d: CsDict, k: unknown): unknown {
  if (k === null || k === undefined) throw argNull('key');
  const kv = d.get(k);
  if (kv === undefined) throw keyNotFound(csString(k));
  return kv.value;
}

defineType<CsDict>('Dictionary', 'System.Collections.Generic.Dictionary`2', {
  props: {
    Count: (d) => d.map.size,
    Keys: (d) => (chargeWork(d.map.size), [...d.map.values()].map((kv) => kv.key)),
    Values: (d) => (chargeWork(d.map.size), [...d.map.values()].map((kv) => kv.value)),
  },
  index: (d, k) => dictGet(d, k[0]),
  setIndex: (d, k, v) => {
    if (k[0] === null || k[0] === undefined) throw argNull('key');
    d.set(k[0], v);
  },
  methods: {
    Add: [2, 2, (d, a) => {
      if (argAt(a, 0) === null) throw argNull('key');
      if (d.get(a[0]) !== undefined) throw argError(`An item with the same key has already been added. Key: ${csString(a[0])}`);
      d.set(a[0], argAt(a, 1));
    }],
    TryAdd: [2, 2, (d, a) => {
      if (argAt(a, 0) === null) throw argNull('key');
      if (d.get(a[0]) !== undefined) return false;
      d.set(a[0], argAt(a, 1));
      return true;
    }],
    ContainsKey: [1, 1, (d, a) => argAt(a, 0) !== null && d.get(a[0]) !== undefined],
    ContainsValue: [1, 1, (d, a) => (chargeWork(d.map.size), [...d.map.values()]).some((kv) => csEquals(kv.value, a[0]))],
    TryGetValue: [2, 2, (d, a) => {
      const kv = argAt(a, 0) === null ? undefined : d.get(a[0]);
      out(a, 1).set(kv === undefined ? null : kv.value);
      return kv !== undefined;
    }],
    GetValueOrDefault: [1, 2, (d, a) => d.get(argAt(a, 0))?.value ?? argAt(a, 1)],
    Remove: [1, 1, (d, a) => d.map.delete(d.norm(a[0]))],
    Clear: [0, 0, (d) => void d.map.clear()],
  },
});

/** System.Random; seeded instances use a small deterministic generator (not .NET's sequence). */
export class CsRandom extends Host {
  readonly #next: () => number;
  constructor(seed: number | null) {
    super();
    if (seed === null) this.#next = random;
    else {
      this.#next = createPrng(seed >>> 0 || 0x9e3779b9);
    }
  }
  get kind(): string {
    return 'Random';
  }
  override get typeName(): string {
    return 'System.Random';
  }
  next(): number {
    return this.#next();
  }
}

defineType<CsRandom>('Random', 'System.Random', {
  methods: {
    Next: [0, 2, (r, a) => {
      const lo = a.length === 2 ? int(a, 0) : 0;
      const hi = a.length === 0 ? 2147483647 : int(a, a.length - 1);
      if (hi < lo) throw outOfRange(a.length === 2 ? 'minValue' : 'maxValue');
      return lo + Math.floor(r.next() * (hi - lo));
    }],
    NextDouble: [0, 0, (r) => new CsDouble(r.next())],
  },
});

/** A caught exception (`catch (Exception ex)`). */
export class ExceptionValue extends Host {
  readonly csType: string;
  readonly message: string;
  constructor(csType: string, message: string) {
    super();
    this.csType = csType;
    this.message = message;
  }
  get kind(): string {
    return 'Exception';
  }
  override get typeName(): string {
    return this.csType;
  }
  override toCs(): string {
    return `${this.csType}: ${this.message}`;
  }
}

defineType<ExceptionValue>('Exception', 'System.Exception', {
  props: { Message: (e) => e.message, InnerException: () => null, Source: () => null, StackTrace: () => null },
});

export class CsEncoding extends Host {
  readonly name: 'utf-8' | 'ascii' | 'utf-16le' | 'latin1';
  constructor(name: CsEncoding['name']) {
    super();
    this.name = name;
  }
  get kind(): string {
    return 'Encoding';
  }
  override get typeName(): string {
    return 'System.Text.Encoding';
  }
}

defineType<CsEncoding>('Encoding', 'System.Text.Encoding', {
  props: { WebName: (e) => e.name },
  methods: {
    GetBytes: [1, 1, (e, a) => {
      const s = a[0] ?? null;
      if (s === null) throw argNull('s');
      const text = typeof s === 'string' ? s : (toSeq(s) ?? []).map(csString).join('');
      // Up to three bytes per char: refused before the buffer exists.
      checkBytes(Buffer.byteLength(text, e.name === 'ascii' ? 'latin1' : e.name));
      const buf = Buffer.from(e.name === 'ascii' ? text.replace(/[^\x00-\x7f]/g, '?') : text, e.name);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
    }],
    GetString: [1, 3, (e, a) => {
      const b = a[0];
      if (!(b instanceof Uint8Array)) throw b === null ? argNull('bytes') : argError('Expected a byte array.');
      const start = a.length > 1 ? int(a, 1) : 0;
      const count = a.length > 2 ? int(a, 2) : b.length - start;
      if (start < 0 || count < 0 || start + count > b.length) throw outOfRange();
      chargeWork(count);
      const text = Buffer.from(b.buffer, b.byteOffset + start, count).toString(e.name);
      return e.name === 'ascii' ? text.replace(/[^\x00-\x7f]/g, '?') : text;
    }],
    GetByteCount: [1, 1, (e, a) => Buffer.byteLength(typeof a[0] === 'string' ? a[0] : '', e.name)],
  },
});

export function throwValue(v: unknown): never {
  if (v instanceof ExceptionValue) throw new CsError(v.csType, v.message);
  if (v === null) throw new CsError('System.NullReferenceException', 'Object reference not set to an instance of an object.');
  throw new CsError('System.InvalidCastException', 'The type caught or thrown must be derived from System.Exception');
}
