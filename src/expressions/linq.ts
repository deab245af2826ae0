/**
 * LINQ to Objects over anything enumerable (arrays, lists, JArray, JObject's properties, strings,
 * dictionaries). Queries run eagerly and return arrays: policies consume them at once, and an eager
 * result cannot surprise anyone with deferred side effects. Lambdas cost steps like any other code.
 * @module
 */
import { int, lambda } from './args.ts';
import { CsError, argNull, invalidOp, outOfRange } from './errors.ts';
import { JToken } from './json.ts';
import { UNITS_PER_STEP, charge, checkCount, chargeWork, produceItems } from './limits.ts';
import { arith, csCompare, csEquals, truth, unwrap } from './operators.ts';
import { type MethodDef, defineStatic } from './registry.ts';
import { castTo, isType } from './conversions.ts';
import type { CType } from './types.ts';
import { CsChar, CsDict, CsDouble, CsList, Host, type Lambda, csString, dbl } from './values.ts';

/** The elements of an enumerable value, or null. Strings enumerate UTF-16 chars, as in C#. */
export function toSeq(v: unknown): readonly unknown[] | null {
  if (Array.isArray(v)) return v as unknown[];
  if (typeof v === 'string') {
    // Enumerating a string materializes its chars: an array of that many elements.
    produceItems(v.length);
    const out: CsChar[] = [];
    for (let i = 0; i < v.length; i++) out.push(CsChar.of(v[i] ?? ''));
    return out;
  }
  if (v instanceof Uint8Array) {
    produceItems(v.length);
    return Array.from(v);
  }
  if (v instanceof Host) return v.enumerate();
  return null;
}

/** Whether `toSeq` would succeed, without materializing anything. */
export function isEnumerable(v: unknown): boolean {
  return typeof v === 'string' || Array.isArray(v) || v instanceof Uint8Array || (v instanceof Host && v.enumerate() !== null);
}

function seqArg(v: unknown, param = 'source'): readonly unknown[] {
  if (v === null || v === undefined) throw argNull(param);
  const s = toSeq(v);
  if (s === null) throw new CsError('System.InvalidCastException', 'The argument is not enumerable.');
  chargeWork(s.length);
  return s;
}

const test = (f: Lambda, x: unknown, i: number): boolean => truth(f.call(f.arity === 2 ? [x, i] : [x]));
const noElements = (): CsError => invalidOp('Sequence contains no elements');

function filter(seq: readonly unknown[], args: unknown[]): readonly unknown[] {
  if (args.length === 0) return seq;
  const f = lambda(args, 0);
  return seq.filter((x, i) => test(f, x, i));
}

const collator = new Intl.Collator('en');
/** A culture-aware comparison reads both strings through ICU: several times a copy's cost per char. */
const COLLATE_WEIGHT = 8;

/** Comparer<T>.Default: numbers and dates by value, strings culture-aware (ICU "en"), nulls first. */
export function orderCompare(a: unknown, b: unknown): number {
  const x = unwrap(a);
  const y = unwrap(b);
  if (x === null || x === undefined) return y === null || y === undefined ? 0 : -1;
  if (y === null || y === undefined) return 1;
  if (typeof x === 'string' && typeof y === 'string') {
    const n = Math.min(x.length, y.length);
    if (n > 32) charge((n * COLLATE_WEIGHT) / UNITS_PER_STEP);
    return collator.compare(x, y);
  }
  if (typeof x === 'boolean' && typeof y === 'boolean') return Number(x) - Number(y);
  return csCompare(x, y) ?? 0;
}

/** Characters of the string elements of `seq`: hashing or comparing them reads every one. */
function stringUnits(seq: readonly unknown[]): number {
  let n = seq.length;
  for (const x of seq) {
    const v = unwrap(x);
    if (typeof v === 'string') n += v.length;
  }
  return n;
}

/** A key usable in a JS Set/Map with C#'s default equality for primitives (references otherwise). */
function eqKey(v: unknown): unknown {
  const x = unwrap(v);
  if (x instanceof CsDouble) return x.v;
  if (x instanceof CsChar) return `\u0000c${x.c}`;
  return v instanceof JToken && x === v ? v : (x ?? null);
}

function extreme(self: unknown, args: unknown[], sign: 1 | -1): unknown {
  let seq = seqArg(self);
  if (args.length > 0) {
    const f = lambda(args, 0);
    seq = seq.map((x) => f.call([x]));
  }
  let best: unknown = undefined;
  for (const x of seq) {
    if (x === null) continue;
    if (best === undefined || orderCompare(x, best) * sign > 0) best = x;
  }
  if (best === undefined) {
    if (seq.length > 0) return null;
    throw noElements();
  }
  return best;
}

function pick(which: 'First' | 'Last' | 'Single', orDefault: boolean) {
  return (self: unknown, args: unknown[]): unknown => {
    const seq = filter(seqArg(self), args);
    if (seq.length === 0) {
      if (orDefault) return null;
      throw args.length > 0 ? invalidOp('Sequence contains no matching element') : noElements();
    }
    if (which === 'Single' && seq.length > 1) throw invalidOp('Sequence contains more than one element');
    return which === 'Last' ? seq[seq.length - 1] : seq[0];
  };
}

function sorted(self: unknown, args: unknown[], desc: boolean): unknown[] {
  const seq = seqArg(self);
  const f = lambda(args, 0, 1);
  chargeWork(seq.length * Math.max(1, Math.ceil(Math.log2(seq.length + 1))));
  const keyed = seq.map((x) => ({ x, k: f.call([x]) }));
  keyed.sort((a, b) => (desc ? -1 : 1) * orderCompare(a.k, b.k));
  return keyed.map((e) => e.x);
}

function sum(self: unknown, args: unknown[]): unknown {
  let seq = seqArg(self);
  if (args.length > 0) {
    const f = lambda(args, 0);
    seq = seq.map((x) => f.call([x]));
  }
  let acc: unknown = 0;
  let anyDouble = false;
  for (const x of seq) {
    if (x === null) continue;
    const v = unwrap(x);
    if (v instanceof CsDouble) anyDouble = true;
    acc = arith('+', acc, v);
  }
  return anyDouble && typeof acc === 'number' ? dbl(acc) : acc;
}

type Impl = (self: unknown, args: unknown[], targs: readonly CType[]) => unknown;
const def = (min: number, max: number, fn: Impl): MethodDef => ({ min, max, fn });
const arr = (xs: unknown[]): unknown[] => {
  checkCount(xs.length);
  return xs;
};

/** Extension methods of System.Linq.Enumerable, by name. */
export const LINQ: ReadonlyMap<string, MethodDef> = new Map<string, MethodDef>([
  ['Any', def(0, 1, (s, a) => filter(seqArg(s), a).length > 0)],
  ['All', def(1, 1, (s, a) => { const f = lambda(a, 0); return seqArg(s).every((x, i) => test(f, x, i)); })],
  ['Where', def(1, 1, (s, a) => arr([...filter(seqArg(s), a)]))],
  ['Select', def(1, 1, (s, a) => { const f = lambda(a, 0); return arr(seqArg(s).map((x, i) => f.call(f.arity === 2 ? [x, i] : [x]))); })],
  ['SelectMany', def(1, 1, (s, a) => { const f = lambda(a, 0, 1); const out: unknown[] = []; for (const x of seqArg(s)) { for (const y of seqArg(f.call([x]))) out.push(y); checkCount(out.length); } return out; })],
  ['First', def(0, 1, pick('First', false))],
  ['FirstOrDefault', def(0, 1, pick('First', true))],
  ['Last', def(0, 1, pick('Last', false))],
  ['LastOrDefault', def(0, 1, pick('Last', true))],
  ['Single', def(0, 1, pick('Single', false))],
  ['SingleOrDefault', def(0, 1, pick('Single', true))],
  ['Count', def(0, 1, (s, a) => filter(seqArg(s), a).length)],
  ['LongCount', def(0, 1, (s, a) => filter(seqArg(s), a).length)],
  ['Sum', def(0, 1, sum)],
  ['Max', def(0, 1, (s, a) => extreme(s, a, 1))],
  ['Min', def(0, 1, (s, a) => extreme(s, a, -1))],
  ['Average', def(0, 1, (s, a) => {
    const seq = seqArg(s);
    if (seq.length === 0) throw noElements();
    const total = unwrap(sum(s, a));
    return dbl((total instanceof CsDouble ? total.v : (total as number)) / seq.length);
  })],
  ['ToList', def(0, 0, (s) => new CsList([...seqArg(s)]))],
  ['ToArray', def(0, 0, (s) => arr([...seqArg(s)]))],
  ['Contains', def(1, 1, (s, a) => { const seq = seqArg(s); chargeWork(seq.length); return seq.some((x) => csEquals(x, a[0])); })],
  ['OrderBy', def(1, 1, (s, a) => sorted(s, a, false))],
  ['OrderByDescending', def(1, 1, (s, a) => sorted(s, a, true))],
  ['Skip', def(1, 1, (s, a) => seqArg(s).slice(Math.max(0, int(a, 0))))],
  ['Take', def(1, 1, (s, a) => seqArg(s).slice(0, Math.max(0, int(a, 0))))],
  ['SkipWhile', def(1, 1, (s, a) => { const f = lambda(a, 0); const seq = seqArg(s); let i = 0; while (i < seq.length && test(f, seq[i], i)) i++; return seq.slice(i); })],
  ['TakeWhile', def(1, 1, (s, a) => { const f = lambda(a, 0); const seq = seqArg(s); let i = 0; while (i < seq.length && test(f, seq[i], i)) i++; return seq.slice(0, i); })],
  ['Distinct', def(0, 0, (s) => { const seen = new Set<unknown>(); const seq = seqArg(s); chargeWork(stringUnits(seq)); return seq.filter((x) => { const k = eqKey(x); if (seen.has(k)) return false; seen.add(k); return true; }); })],
  ['Reverse', def(0, 0, (s) => [...seqArg(s)].reverse())],
  ['Concat', def(1, 1, (s, a) => arr([...seqArg(s), ...seqArg(a[0], 'second')]))],
  ['Append', def(1, 1, (s, a) => arr([...seqArg(s), a[0] ?? null]))],
  ['Prepend', def(1, 1, (s, a) => arr([a[0] ?? null, ...seqArg(s)]))],
  ['ElementAt', def(1, 1, (s, a) => { const seq = seqArg(s); const i = int(a, 0); if (i < 0 || i >= seq.length) throw outOfRange(); return seq[i]; })],
  ['ElementAtOrDefault', def(1, 1, (s, a) => seqArg(s)[int(a, 0)] ?? null)],
  ['SequenceEqual', def(1, 1, (s, a) => { const x = seqArg(s); const y = seqArg(a[0], 'second'); return x.length === y.length && x.every((v, i) => csEquals(v, y[i])); })],
  ['Aggregate', def(1, 2, (s, a) => {
    const seq = seqArg(s);
    const f = lambda(a, a.length - 1, 2);
    let i = 0;
    let acc: unknown;
    if (a.length === 2) acc = a[0];
    else {
      if (seq.length === 0) throw noElements();
      acc = seq[i++];
    }
    for (; i < seq.length; i++) acc = f.call([acc, seq[i]]);
    return acc;
  })],
  ['Cast', def(0, 0, (s, _a, t) => seqArg(s).map((x) => (t[0] === undefined ? x : castTo(x, t[0]))))],
  ['OfType', def(0, 0, (s, _a, t) => seqArg(s).filter((x) => t[0] === undefined || isType(x, t[0])))],
  ['ToDictionary', def(1, 2, (s, a) => {
    const kf = lambda(a, 0, 1);
    const vf = a.length > 1 ? lambda(a, 1, 1) : null;
    const d = new CsDict();
    for (const x of seqArg(s)) {
      const k = kf.call([x]);
      if (k === null) throw argNull('key');
      if (d.get(k) !== undefined) throw new CsError('System.ArgumentException', `An item with the same key has already been added. Key: ${csString(k)}`);
      d.set(k, vf === null ? x : vf.call([x]));
    }
    return d;
  })],
]);

defineStatic(['Enumerable'], {
  methods: {
    Range: [2, 2, (a) => {
      const start = int(a, 0);
      const count = int(a, 1);
      if (count < 0) throw outOfRange('count');
      // Cap checked before building; the result is charged and counted when the call settles.
      checkCount(count);
      const out = new Array<number>(count);
      for (let i = 0; i < count; i++) out[i] = start + i;
      return out;
    }],
    Repeat: [2, 2, (a) => {
      const count = int(a, 1);
      if (count < 0) throw outOfRange('count');
      // Cap checked before building; the result is charged and counted when the call settles.
      checkCount(count);
      return new Array<unknown>(count).fill(a[0] ?? null);
    }],
    Empty: [0, 0, () => []],
  },
});
