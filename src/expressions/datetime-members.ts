/**
 * Members and statics of DateTime, DateTimeOffset, TimeSpan and Guid.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { int, num, out, str, strOrNull } from './args.ts';
import { CsDateTime, CsGuid, CsTimeSpan, TICKS_PER_MS, parseDate, parseGuid } from './datetime.ts';
import { CsError, argError } from './errors.ts';
import { now } from './limits.ts';
import { orderCompare } from './linq.ts';
import { defineStatic, defineType } from './registry.ts';
import { csString, dbl, defineEnum } from './values.ts';

const dayOfWeek = defineEnum('System.DayOfWeek', ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']);
const dateKind = defineEnum('System.DateTimeKind', ['Unspecified', 'Utc', 'Local']);

const date = (d: CsDateTime): Date => new Date(d.ms);
const add = (scale: number) => [1, 1, (d: CsDateTime, a: unknown[]) => d.addTicks(num(a, 0) * scale)] as const;
const cmp = [1, 1, (x: unknown, a: unknown[]) => (a[0] === null ? 1 : Math.sign(orderCompare(x, a[0])))] as const;

function subtract(d: CsDateTime, a: unknown[]): unknown {
  const o = a[0];
  if (o instanceof CsDateTime) return new CsTimeSpan((d.ms - o.ms) * TICKS_PER_MS + (d.sub - o.sub));
  if (o instanceof CsTimeSpan) return d.addTicks(-o.ticks);
  throw argError('Subtract expects a DateTime or a TimeSpan.');
}

function midnight(d: CsDateTime): CsDateTime {
  return new CsDateTime(Math.floor(d.ms / 86400000) * 86400000, 0, d.dkind, d.isOffset);
}

const dateSpec = {
  props: {
    Year: (d: CsDateTime) => date(d).getUTCFullYear(),
    Month: (d: CsDateTime) => date(d).getUTCMonth() + 1,
    Day: (d: CsDateTime) => date(d).getUTCDate(),
    Hour: (d: CsDateTime) => date(d).getUTCHours(),
    Minute: (d: CsDateTime) => date(d).getUTCMinutes(),
    Second: (d: CsDateTime) => date(d).getUTCSeconds(),
    Millisecond: (d: CsDateTime) => date(d).getUTCMilliseconds(),
    Ticks: (d: CsDateTime) => d.ticks,
    Date: midnight,
    TimeOfDay: (d: CsDateTime) => new CsTimeSpan((d.ms - midnight(d).ms) * TICKS_PER_MS + d.sub),
    DayOfWeek: (d: CsDateTime) => [...dayOfWeek.values()][date(d).getUTCDay()] ?? null,
    DayOfYear: (d: CsDateTime) => Math.floor((midnight(d).ms - Date.UTC(date(d).getUTCFullYear(), 0, 1)) / 86400000) + 1,
    Kind: (d: CsDateTime) => dateKind.get(d.isOffset ? 'Unspecified' : d.dkind) ?? null,
    // DateTimeOffset members (every offset here is +00:00).
    UtcDateTime: (d: CsDateTime) => new CsDateTime(d.ms, d.sub, 'Utc'),
    LocalDateTime: (d: CsDateTime) => new CsDateTime(d.ms, d.sub, 'Local'),
    DateTime: (d: CsDateTime) => new CsDateTime(d.ms, d.sub, 'Unspecified'),
    Offset: () => new CsTimeSpan(0),
    UtcTicks: (d: CsDateTime) => d.ticks,
  },
  methods: {
    ToString: [0, 2, (d: CsDateTime, a: unknown[]) => (typeof a[0] === 'string' ? d.formatWith(a[0]) : d.toCs())],
    AddTicks: add(1),
    AddMilliseconds: add(TICKS_PER_MS),
    AddSeconds: add(1000 * TICKS_PER_MS),
    AddMinutes: add(60_000 * TICKS_PER_MS),
    AddHours: add(3_600_000 * TICKS_PER_MS),
    AddDays: add(86_400_000 * TICKS_PER_MS),
    AddMonths: [1, 1, (d: CsDateTime, a: unknown[]) => d.addMonths(int(a, 0))],
    AddYears: [1, 1, (d: CsDateTime, a: unknown[]) => d.addMonths(int(a, 0) * 12)],
    Add: [1, 1, (d: CsDateTime, a: unknown[]) => {
      if (!(a[0] instanceof CsTimeSpan)) throw argError('Add expects a TimeSpan.');
      return d.addTicks(a[0].ticks);
    }],
    Subtract: [1, 1, subtract],
    ToUniversalTime: [0, 0, (d: CsDateTime) => (d.isOffset ? d : d.withKind('Utc'))],
    ToLocalTime: [0, 0, (d: CsDateTime) => (d.isOffset ? d : d.withKind('Local'))],
    ToUnixTimeSeconds: [0, 0, (d: CsDateTime) => Math.floor(d.ms / 1000)],
    ToUnixTimeMilliseconds: [0, 0, (d: CsDateTime) => d.ms],
    ToIsoString: [0, 0, (d: CsDateTime) => d.formatWith('o')],
    CompareTo: cmp,
  },
} as const;

defineType<CsDateTime>('System.DateTime', 'System.DateTime', dateSpec);
defineType<CsDateTime>('System.DateTimeOffset', 'System.DateTimeOffset', dateSpec);

const fromNow = (kind: 'Utc' | 'Local', offset: boolean) => () => CsDateTime.fromMs(now(), kind, offset);

function tryParse<T>(a: unknown[], parse: (s: string) => T, fallback: T): boolean {
  const target = out(a, a.length - 1);
  const s = strOrNull(a, 0);
  try {
    if (s === null) throw argError('null');
    target.set(parse(s));
    return true;
  } catch (err) {
    if (!(err instanceof CsError)) throw err;
    target.set(fallback);
    return false;
  }
}

const MIN_DATE = (): CsDateTime => new CsDateTime(-62135596800000, 0, 'Unspecified');

defineStatic(['DateTime'], {
  props: {
    UtcNow: fromNow('Utc', false),
    Now: fromNow('Local', false),
    Today: () => midnight(CsDateTime.fromMs(now(), 'Local')),
    MinValue: MIN_DATE,
    MaxValue: () => new CsDateTime(253402300799999, 9999, 'Unspecified'),
    UnixEpoch: () => new CsDateTime(0, 0, 'Utc'),
  },
  methods: {
    Parse: [1, 3, (a) => parseDate(str(a, 0, 's'))],
    TryParse: [2, 4, (a) => tryParse(a, (s) => parseDate(s), MIN_DATE())],
    SpecifyKind: [2, 2, (a) => {
      const d = a[0];
      if (!(d instanceof CsDateTime)) throw argError('Expected a DateTime.');
      return d.withKind(csString(a[1]) as 'Utc' | 'Local' | 'Unspecified');
    }],
    DaysInMonth: [2, 2, (a) => new Date(Date.UTC(int(a, 0), int(a, 1), 0)).getUTCDate()],
    IsLeapYear: [1, 1, (a) => { const y = int(a, 0); return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0; }],
  },
  ctor: [1, 7, (a) => {
    if (a.length === 1) return new CsDateTime(Math.floor(num(a, 0) / TICKS_PER_MS) - 62135596800000, num(a, 0) % TICKS_PER_MS, 'Unspecified');
    const [y, mo, d, h, mi, s, ms] = [0, 1, 2, 3, 4, 5, 6].map((i) => (i < a.length && typeof a[i] === 'number' ? a[i] : i === 1 || i === 2 ? 1 : 0));
    const dt = new Date(0);
    dt.setUTCFullYear(y ?? 1, (mo ?? 1) - 1, d ?? 1);
    dt.setUTCHours(h ?? 0, mi ?? 0, s ?? 0, ms ?? 0);
    if (dt.getUTCMonth() !== (mo ?? 1) - 1) throw new CsError('System.ArgumentOutOfRangeException', 'Year, Month, and Day parameters describe an un-representable DateTime.');
    return new CsDateTime(dt.getTime(), 0, 'Unspecified');
  }],
});

defineStatic(['DateTimeOffset'], {
  props: { UtcNow: fromNow('Utc', true), Now: fromNow('Utc', true), MinValue: () => new CsDateTime(-62135596800000, 0, 'Utc', true), UnixEpoch: () => new CsDateTime(0, 0, 'Utc', true) },
  methods: {
    Parse: [1, 3, (a) => parseDate(str(a, 0, 'input'), true)],
    TryParse: [2, 4, (a) => tryParse(a, (s) => parseDate(s, true), new CsDateTime(-62135596800000, 0, 'Utc', true))],
    FromUnixTimeSeconds: [1, 1, (a) => new CsDateTime(num(a, 0) * 1000, 0, 'Utc', true)],
    FromUnixTimeMilliseconds: [1, 1, (a) => new CsDateTime(num(a, 0), 0, 'Utc', true)],
  },
});

const span = (scaleMs: number) => [1, 1, (a: unknown[]) => CsTimeSpan.fromMs(num(a, 0) * scaleMs)] as const;

defineType<CsTimeSpan>('System.TimeSpan', 'System.TimeSpan', {
  props: {
    Days: (t) => Math.trunc(t.ticks / 864e9),
    Hours: (t) => Math.trunc(t.ticks / 36e9) % 24,
    Minutes: (t) => Math.trunc(t.ticks / 6e8) % 60,
    Seconds: (t) => Math.trunc(t.ticks / 1e7) % 60,
    Milliseconds: (t) => Math.trunc(t.ticks / 1e4) % 1000,
    Ticks: (t) => t.ticks,
    TotalDays: (t) => dbl(t.ticks / 864e9),
    TotalHours: (t) => dbl(t.ticks / 36e9),
    TotalMinutes: (t) => dbl(t.ticks / 6e8),
    TotalSeconds: (t) => dbl(t.ticks / 1e7),
    TotalMilliseconds: (t) => dbl(t.ticks / 1e4),
  },
  methods: {
    ToString: [0, 2, (t, a) => (typeof a[0] === 'string' ? t.formatWith(a[0]) : t.toCs())],
    Add: [1, 1, (t, a) => new CsTimeSpan(t.ticks + (a[0] instanceof CsTimeSpan ? a[0].ticks : 0))],
    Subtract: [1, 1, (t, a) => new CsTimeSpan(t.ticks - (a[0] instanceof CsTimeSpan ? a[0].ticks : 0))],
    Negate: [0, 0, (t) => new CsTimeSpan(-t.ticks)],
    Duration: [0, 0, (t) => new CsTimeSpan(Math.abs(t.ticks))],
    CompareTo: cmp,
  },
});

defineStatic(['TimeSpan'], {
  props: { Zero: () => new CsTimeSpan(0), MaxValue: () => new CsTimeSpan(Number.MAX_SAFE_INTEGER), MinValue: () => new CsTimeSpan(-Number.MAX_SAFE_INTEGER) },
  methods: {
    FromMilliseconds: span(1),
    FromSeconds: span(1000),
    FromMinutes: span(60_000),
    FromHours: span(3_600_000),
    FromDays: span(86_400_000),
    FromTicks: [1, 1, (a) => new CsTimeSpan(num(a, 0))],
  },
  ctor: [1, 5, (a) => {
    const n = a.map((_, i) => num(a, i));
    if (n.length === 1) return new CsTimeSpan(n[0] ?? 0);
    const [d, h, m, s, ms] = n.length === 3 ? [0, ...n, 0] : n.length === 4 ? [...n, 0] : n;
    return CsTimeSpan.fromMs(((((d ?? 0) * 24 + (h ?? 0)) * 60 + (m ?? 0)) * 60 + (s ?? 0)) * 1000 + (ms ?? 0));
  }],
});

defineType<CsGuid>('System.Guid', 'System.Guid', {
  methods: {
    ToString: [0, 2, (g, a) => (typeof a[0] === 'string' ? g.formatWith(a[0]) : g.toCs())],
    ToByteArray: [0, 0, (g) => new Uint8Array(Buffer.from(g.hex, 'hex'))],
    CompareTo: [1, 1, (g, a) => (a[0] instanceof CsGuid ? Math.sign(g.toCs().localeCompare(a[0].toCs())) : 1)],
  },
});

defineStatic(['Guid'], {
  props: { Empty: () => new CsGuid('0'.repeat(32)) },
  methods: {
    NewGuid: [0, 0, () => new CsGuid(randomUUID().replaceAll('-', ''))],
    Parse: [1, 1, (a) => parseGuid(str(a, 0, 'input'))],
    TryParse: [2, 2, (a) => tryParse(a, parseGuid, new CsGuid('0'.repeat(32)))],
  },
  ctor: [1, 1, (a) => parseGuid(str(a, 0, 'g'))],
});

defineStatic(['DateTimeKind'], { props: Object.fromEntries([...dateKind].map(([k, v]) => [k, () => v])) });
defineStatic(['DayOfWeek'], { props: Object.fromEntries([...dayOfWeek].map(([k, v]) => [k, () => v])) });
