/**
 * The members of `Regex`, `Match`, `Group`, `MatchCollection`, `GroupCollection` and
 * `RegexOptions`, static and instance. A call whose pattern (and options) are constants is
 * prepared at load: the pattern is compiled once, and a pattern RE2 cannot run is a load error.
 * @module
 */
import { int, str } from './args.ts';
import { CsError, argNull, outOfRange } from './errors.ts';
import { NOT_CONST, type StaticFn, defineStatic, defineType } from './registry.ts';
import { CsGroup, CsMatch, CsRegex, OPT, escapePattern, regexFor, substitute, unescapePattern } from './regex.ts';
import { CsEnum, Host, Lambda, csString, defineFlags, flagsValue } from './values.ts';

const OPTIONS_TYPE = 'System.Text.RegularExpressions.RegexOptions';
const options = defineFlags(OPTIONS_TYPE, OPT);

class MatchCollection extends Host {
  readonly items: readonly CsMatch[];
  constructor(items: readonly CsMatch[]) {
    super();
    this.items = items;
  }
  get kind(): string {
    return 'MatchCollection';
  }
  override get typeName(): string {
    return 'System.Text.RegularExpressions.MatchCollection';
  }
  override enumerate(): readonly unknown[] {
    return this.items;
  }
}

class GroupCollection extends Host {
  readonly m: CsMatch;
  constructor(m: CsMatch) {
    super();
    this.m = m;
  }
  get kind(): string {
    return 'GroupCollection';
  }
  override get typeName(): string {
    return 'System.Text.RegularExpressions.GroupCollection';
  }
  override enumerate(): readonly unknown[] {
    return Array.from({ length: this.m.groupCount() }, (_, i) => this.m.group(i));
  }
}

/** RegexOptions from an enum value or an int; null/absent is None. */
function optionsArg(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (v instanceof CsEnum && v.type === OPTIONS_TYPE) return v.value;
  if (typeof v === 'number') return v;
  throw new CsError('Microsoft.CSharp.RuntimeBinder.RuntimeBinderException', `Argument: cannot convert from '${csString(v)}' to 'System.Text.RegularExpressions.RegexOptions'`);
}

function input(a: readonly unknown[], i: number): string {
  return str(a, i, 'input');
}

/** A replacement: a string with $-substitutions, or a MatchEvaluator lambda. */
function replacement(v: unknown): string | ((m: CsMatch) => string) {
  if (v instanceof Lambda) return (m) => csString(v.call([m]));
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) throw argNull('replacement');
  throw new CsError('Microsoft.CSharp.RuntimeBinder.RuntimeBinderException', "Argument 3: cannot convert to 'string' or 'MatchEvaluator'");
}

function startAt(a: readonly unknown[], i: number, s: string): number {
  if (a.length <= i) return 0;
  const n = int(a, i);
  if (n < 0 || n > s.length) throw outOfRange('startat');
  return n;
}

type Op = (rx: CsRegex, a: unknown[]) => unknown;

/** Static Regex.X(input, pattern, ...rest) → instance operation; `optIndex` is where RegexOptions sits. */
const STATIC_OPS: Readonly<Record<string, { min: number; max: number; optIndex: number; op: Op }>> = {
  IsMatch: { min: 2, max: 4, optIndex: 2, op: (rx, a) => rx.isMatch(input(a, 0)) },
  Match: { min: 2, max: 4, optIndex: 2, op: (rx, a) => rx.match(input(a, 0)) },
  Matches: { min: 2, max: 4, optIndex: 2, op: (rx, a) => new MatchCollection(rx.all(input(a, 0))) },
  Replace: { min: 3, max: 5, optIndex: 3, op: (rx, a) => rx.replace(input(a, 0), replacement(a[2])) },
  Split: { min: 2, max: 4, optIndex: 2, op: (rx, a) => rx.split(input(a, 0)) },
};

function patternArg(a: readonly unknown[]): string {
  return str(a, 1, 'pattern');
}

defineStatic(['Regex'], {
  props: { InfiniteMatchTimeout: () => null },
  methods: {
    ...Object.fromEntries(
      Object.entries(STATIC_OPS).map(([name, s]) => [name, [s.min, s.max, (a: unknown[]) => s.op(regexFor(patternArg(a), optionsArg(a[s.optIndex])), a)]] as const),
    ),
    Escape: [1, 1, (a) => escapePattern(str(a, 0, 'str'))],
    Unescape: [1, 1, (a) => unescapePattern(str(a, 0, 'str'))],
  },
  ctor: [1, 3, (a) => regexFor(str(a, 0, 'pattern'), optionsArg(a[1]))],
  prepare: {
    ...Object.fromEntries(
      Object.entries(STATIC_OPS).map(([name, s]) => [
        name,
        (consts: readonly unknown[]): StaticFn | null => {
          const p = consts[1];
          const o = consts[s.optIndex];
          if (typeof p !== 'string' || o === NOT_CONST) return null;
          const rx = new CsRegex(p, optionsArg(o));
          return (a) => s.op(rx, a);
        },
      ]),
    ),
    '.ctor': (consts) => {
      const p = consts[0];
      const o = consts[1];
      if (typeof p !== 'string' || o === NOT_CONST) return null;
      const rx = new CsRegex(p, optionsArg(o));
      return () => rx;
    },
  },
});

defineStatic(['RegexOptions'], { props: Object.fromEntries([...options].map(([k, v]) => [k, () => v])) });

defineType<CsRegex>('Regex', 'System.Text.RegularExpressions.Regex', {
  props: { Options: (rx) => flagsValue(OPTIONS_TYPE, rx.options), RightToLeft: () => false },
  methods: {
    IsMatch: [1, 2, (rx, a) => rx.isMatch(input(a, 0), startAt(a, 1, input(a, 0)))],
    Match: [1, 2, (rx, a) => rx.match(input(a, 0), startAt(a, 1, input(a, 0)))],
    Matches: [1, 2, (rx, a) => new MatchCollection(rx.all(input(a, 0), Infinity, startAt(a, 1, input(a, 0))))],
    Replace: [2, 4, (rx, a) => rx.replace(input(a, 0), replacement(a[1]), a.length > 2 ? int(a, 2) : -1, startAt(a, 3, input(a, 0)))],
    Split: [1, 3, (rx, a) => rx.split(input(a, 0), a.length > 1 ? int(a, 1) : 0, startAt(a, 2, input(a, 0)))],
    GetGroupNames: [0, 0, (rx) => [...rx.groups.names]],
    GetGroupNumbers: [0, 0, (rx) => rx.groups.names.map((_, i) => i)],
    GroupNumberFromName: [1, 1, (rx, a) => rx.groups.names.indexOf(str(a, 0, 'name'))],
  },
});

const groupProps = {
  Success: (g: CsGroup) => g.success,
  Value: (g: CsGroup) => g.value,
  Index: (g: CsGroup) => g.index,
  Length: (g: CsGroup) => g.value.length,
  Name: (g: CsGroup) => g.name,
};

defineType<CsGroup>('Group', 'System.Text.RegularExpressions.Group', { props: groupProps });

defineType<CsMatch>('Match', 'System.Text.RegularExpressions.Match', {
  props: { ...groupProps, Groups: (m) => new GroupCollection(m) },
  methods: {
    NextMatch: [0, 0, (m) => m.next()],
    Result: [1, 1, (m, a) => {
      if (!m.success) throw new CsError('System.NotSupportedException', 'Result cannot be called on a failed Match.');
      return substitute(str(a, 0, 'replacement'), m);
    }],
  },
});

defineType<MatchCollection>('MatchCollection', 'System.Text.RegularExpressions.MatchCollection', {
  props: { Count: (c) => c.items.length },
  index: (c, k) => {
    const i = int(k, 0);
    const m = c.items[i];
    if (m === undefined) throw outOfRange('i');
    return m;
  },
});

defineType<GroupCollection>('GroupCollection', 'System.Text.RegularExpressions.GroupCollection', {
  props: { Count: (g) => g.m.groupCount(), Keys: (g) => [...g.m.regex.groups.names] },
  methods: {
    ContainsKey: [1, 1, (g, a) => g.m.regex.groups.names.includes(str(a, 0, 'key'))],
  },
  index: (g, k) => (typeof k[0] === 'string' ? g.m.groupByName(k[0]) : g.m.group(int(k, 0))),
});
