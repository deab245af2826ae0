/**
 * Static members and constructors of the BCL types policies use: Math, Convert, int/long/double/
 * bool/char parsing, Array, Encoding, Uri, Random, List, Dictionary, exceptions, CultureInfo.
 * @module
 */
import { int, isNum, num, out, str, strOrNull } from './args.ts';
import { parseBool } from './conversions.ts';
import { CsEncoding, CsRandom, ExceptionValue } from './core-members.ts';
import { CsError, argError, argNull, formatError, overflow } from './errors.ts';
import { checkCount, checkStringLength, chargeWork, mapChunks } from './limits.ts';
import { toSeq } from './linq.ts';
import { parseDouble, parseInteger, roundHalfEven } from './numbers.ts';
import { csEquals, unwrap } from './operators.ts';
import { defineStatic } from './registry.ts';
import { makeUri, tryCreateUri, uriKinds, uriPartials } from './uri.ts';
import { clrName, type CType } from './types.ts';
import { CsChar, CsDict, CsDouble, CsEnum, CsList, Host, OutRef, csString, csTypeName, dbl, defineEnum } from './values.ts';

const midpoint = defineEnum('System.MidpointRounding', ['ToEven', 'AwayFromZero', 'ToZero', 'ToNegativeInfinity', 'ToPositiveInfinity']);

/** Int results stay ints when every argument is an int (Math.Max(1, 2) is int; Math.Max(1, 2.0) is double). */
function numeric(a: unknown[], f: (...xs: number[]) => number): unknown {
  const xs = a.map((_, i) => num(a, i));
  const r = f(...xs);
  return a.every((x) => typeof x === 'number') ? r : dbl(r);
}

function round(a: unknown[]): unknown {
  const x = num(a, 0);
  const digits = typeof a[1] === 'number' ? a[1] : 0;
  const mode = a.find((v): v is CsEnum => v instanceof CsEnum);
  const scale = 10 ** digits;
  const scaled = x * scale;
  const r = mode?.name === 'AwayFromZero' ? Math.sign(scaled) * Math.round(Math.abs(scaled)) : roundHalfEven(scaled);
  return dbl(r / scale);
}

defineStatic(['Math'], {
  props: { PI: () => dbl(Math.PI), E: () => dbl(Math.E) },
  methods: {
    Max: [2, 2, (a) => numeric(a, Math.max)],
    Min: [2, 2, (a) => numeric(a, Math.min)],
    Abs: [1, 1, (a) => numeric(a, Math.abs)],
    Sign: [1, 1, (a) => Math.sign(num(a, 0))],
    Floor: [1, 1, (a) => dbl(Math.floor(num(a, 0)))],
    Ceiling: [1, 1, (a) => dbl(Math.ceil(num(a, 0)))],
    Truncate: [1, 1, (a) => dbl(Math.trunc(num(a, 0)))],
    Round: [1, 3, round],
    Pow: [2, 2, (a) => dbl(num(a, 0) ** num(a, 1))],
    Sqrt: [1, 1, (a) => dbl(Math.sqrt(num(a, 0)))],
    Log: [1, 2, (a) => dbl(a.length > 1 ? Math.log(num(a, 0)) / Math.log(num(a, 1)) : Math.log(num(a, 0)))],
    Log10: [1, 1, (a) => dbl(Math.log10(num(a, 0)))],
    Exp: [1, 1, (a) => dbl(Math.exp(num(a, 0)))],
    Clamp: [3, 3, (a) => numeric(a, (x, lo, hi) => Math.min(Math.max(x ?? 0, lo ?? 0), hi ?? 0))],
  },
});
defineStatic(['MidpointRounding'], { props: Object.fromEntries([...midpoint].map(([k, v]) => [k, () => v])) });

/** Convert.ToInt32/ToInt64 of any value: doubles round to even, strings parse, bools are 0/1. */
function toInteger(v: unknown, bits: 32 | 64): number {
  const x = unwrap(v);
  if (x === null) return 0;
  if (typeof x === 'number') return x;
  if (x instanceof CsDouble) {
    const r = roundHalfEven(x.v);
    if (!Number.isFinite(r) || Math.abs(r) > (bits === 32 ? 2147483648 : 9.3e18)) throw overflow(bits === 32 ? 'an Int32' : 'an Int64');
    return r;
  }
  if (typeof x === 'string') return parseInteger(x, bits);
  if (typeof x === 'boolean') return x ? 1 : 0;
  if (x instanceof CsChar) return x.code;
  throw new CsError('System.InvalidCastException', `Unable to cast object of type '${csTypeName(v)}' to type 'System.IConvertible'.`);
}

function toDouble(v: unknown): CsDouble {
  const x = unwrap(v);
  if (x === null) return dbl(0);
  if (typeof x === 'number') return dbl(x);
  if (x instanceof CsDouble) return x;
  if (typeof x === 'string') return dbl(parseDouble(x));
  if (typeof x === 'boolean') return dbl(x ? 1 : 0);
  throw new CsError('System.InvalidCastException', `Unable to cast object of type '${csTypeName(v)}' to type 'System.IConvertible'.`);
}

function bytesArg(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (v === null || v === undefined) throw argNull('inArray');
  throw argError('Expected a byte array.');
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

defineStatic(['Convert'], {
  methods: {
    ToBase64String: [1, 1, (a) => {
      const b = bytesArg(a[0]);
      checkStringLength(Math.ceil(b.length / 3) * 4);
      return Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64');
    }],
    FromBase64String: [1, 1, (a) => {
      const s = str(a, 0, 's').replace(/\s+/g, '');
      if (s.length % 4 !== 0 || !BASE64.test(s)) throw formatError('The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters.');
      return new Uint8Array(Buffer.from(s, 'base64'));
    }],
    ToInt32: [1, 2, (a) => (a.length === 2 ? parseInt(str(a, 0), int(a, 1)) : toInteger(a[0], 32))],
    ToInt64: [1, 1, (a) => toInteger(a[0], 64)],
    ToInt16: [1, 1, (a) => toInteger(a[0], 32)],
    ToDouble: [1, 1, (a) => toDouble(a[0])],
    ToDecimal: [1, 1, (a) => toDouble(a[0])],
    ToSingle: [1, 1, (a) => toDouble(a[0])],
    ToBoolean: [1, 1, (a) => {
      const x = unwrap(a[0]);
      if (typeof x === 'string') return parseBool(x);
      if (isNum(x)) return num([x], 0) !== 0;
      if (typeof x === 'boolean') return x;
      if (x === null) return false;
      throw new CsError('System.InvalidCastException', `Unable to cast object of type '${csTypeName(a[0])}' to type 'System.IConvertible'.`);
    }],
    ToString: [1, 2, (a) => csString(a[0])],
  },
});

function parser(bits: 32 | 64 | 'double' | 'bool') {
  const parse = (s: string): unknown => (bits === 'double' ? dbl(parseDouble(s)) : bits === 'bool' ? parseBool(s) : parseInteger(s, bits));
  const zero = bits === 'double' ? dbl(0) : bits === 'bool' ? false : 0;
  return {
    Parse: [1, 3, (a: unknown[]) => parse(str(a, 0, 's'))] as const,
    TryParse: [2, 4, (a: unknown[]) => {
      const target = out(a, a.length - 1);
      const s = strOrNull(a, 0);
      try {
        if (s === null) throw argNull('s');
        target.set(parse(s));
        return true;
      } catch (err) {
        if (!(err instanceof CsError)) throw err;
        target.set(zero);
        return false;
      }
    }] as const,
  };
}

const MAX_INT = 2147483647;
defineStatic(['int', 'Int32'], { props: { MaxValue: () => MAX_INT, MinValue: () => -MAX_INT - 1 }, methods: parser(32) });
defineStatic(['long', 'Int64'], { props: { MaxValue: () => 9223372036854775807, MinValue: () => -9223372036854775808 }, methods: parser(64) });
defineStatic(['double', 'Double', 'decimal', 'Decimal', 'float', 'Single'], {
  props: { MaxValue: () => dbl(Number.MAX_VALUE), MinValue: () => dbl(-Number.MAX_VALUE), NaN: () => dbl(NaN), PositiveInfinity: () => dbl(Infinity), NegativeInfinity: () => dbl(-Infinity), Epsilon: () => dbl(Number.MIN_VALUE) },
  methods: { ...parser('double'), IsNaN: [1, 1, (a) => Number.isNaN(num(a, 0))], IsInfinity: [1, 1, (a) => !Number.isFinite(num(a, 0)) && !Number.isNaN(num(a, 0))] },
});
defineStatic(['bool', 'Boolean'], { props: { TrueString: () => 'True', FalseString: () => 'False' }, methods: parser('bool') });

const charTest = (re: RegExp) => [1, 1, (a: unknown[]) => (a[0] instanceof CsChar ? re.test(a[0].c) : re.test(str(a, 0).charAt(int(a, 1))))] as const;
defineStatic(['char', 'Char'], {
  methods: {
    IsDigit: charTest(/^\d$/),
    IsLetter: charTest(/^\p{L}$/u),
    IsLetterOrDigit: charTest(/^[\p{L}\d]$/u),
    IsWhiteSpace: charTest(/^\s$/),
    IsUpper: charTest(/^\p{Lu}$/u),
    IsLower: charTest(/^\p{Ll}$/u),
    IsPunctuation: charTest(/^\p{P}$/u),
    ToUpper: [1, 1, (a) => CsChar.of((a[0] instanceof CsChar ? a[0].c : '').toUpperCase().charAt(0))],
    ToLower: [1, 1, (a) => CsChar.of((a[0] instanceof CsChar ? a[0].c : '').toLowerCase().charAt(0))],
  },
});

defineStatic(['Array'], {
  methods: {
    IndexOf: [2, 3, (a) => {
      const seq = a[0] === null ? null : toSeq(a[0]);
      if (seq === null) throw argNull('array');
      chargeWork(seq.length);
      const from = typeof a[2] === 'number' ? a[2] : 0;
      for (let i = from; i < seq.length; i++) if (csEquals(seq[i], a[1])) return i;
      return -1;
    }],
    Exists: [2, 2, () => {
      throw new CsError('System.NotSupportedException', 'Array.Exists is not supported; use .Any(...)');
    }],
    Empty: [0, 0, () => []],
    Reverse: [1, 1, (a) => void (Array.isArray(a[0]) ? (chargeWork(a[0].length), a[0].reverse()) : null)],
  },
});

const encodings = { UTF8: new CsEncoding('utf-8'), ASCII: new CsEncoding('ascii'), Unicode: new CsEncoding('utf-16le'), Latin1: new CsEncoding('latin1') };
defineStatic(['Encoding'], {
  props: { UTF8: () => encodings.UTF8, ASCII: () => encodings.ASCII, Unicode: () => encodings.Unicode, Latin1: () => encodings.Latin1, Default: () => encodings.UTF8 },
  methods: { GetEncoding: [1, 1, (a) => (/^utf-?8$/i.test(str(a, 0)) ? encodings.UTF8 : /^(us-)?ascii$/i.test(str(a, 0)) ? encodings.ASCII : (() => { throw argError(`'${str(a, 0)}' is not a supported encoding name.`); })())] },
});

/** Escaping reads every char through the engine's encoder: dearer per char than a copy. */
const ESCAPE_WEIGHT = 4;
/** Each escape (2 or more added chars) costs about a step, as each Replace match does. */
const STEPS_PER_GROWTH = 0.5;

/**
 * RFC 3986 unreserved characters stay; everything else is percent-encoded (upper-case hex), like
 * Uri.EscapeDataString. Escaping can grow a string ninefold (a CJK char is three %XX), so it is
 * built piece by piece and refused at the cap.
 */
function escapeData(s: string): string {
  chargeWork(s.length * ESCAPE_WEIGHT);
  return mapChunks(s, (p) => encodeURIComponent(p).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`), STEPS_PER_GROWTH);
}

/** Five native passes: far cheaper than a regex callback per match (a string of 4 Mi '<' would be 4 Mi calls). */
const htmlEncode = (s: string): string => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');

function unescape(s: string, plus: boolean): string {
  // A run of escapes is decoded by a callback: up to one per four chars.
  chargeWork(s.length * ESCAPE_WEIGHT * 4);
  const t = plus ? s.replace(/\+/g, ' ') : s;
  return t.replace(/(%[0-9A-Fa-f]{2})+/g, (m) => {
    try {
      return decodeURIComponent(m);
    } catch {
      return m;
    }
  });
}

defineStatic(['Uri'], {
  ctor: [1, 2, (a) => makeUri(a)],
  props: { UriSchemeHttp: () => 'http', UriSchemeHttps: () => 'https', SchemeDelimiter: () => '://' },
  methods: {
    TryCreate: [3, 3, (a) => tryCreateUri(a)],
    IsWellFormedUriString: [2, 2, (a) => tryCreateUri([a[0], a[1], new OutRef(() => undefined)])],
    EscapeDataString: [1, 1, (a) => escapeData(str(a, 0, 'stringToEscape'))],
    UnescapeDataString: [1, 1, (a) => unescape(str(a, 0, 'stringToUnescape'), false)],
    EscapeUriString: [1, 1, (a) => { const s = str(a, 0, 'stringToEscape'); chargeWork(s.length * ESCAPE_WEIGHT); return mapChunks(s, encodeURI, STEPS_PER_GROWTH); }],
  },
});
defineStatic(['UriKind'], { props: Object.fromEntries([...uriKinds].map(([k, v]) => [k, () => v])) });
defineStatic(['UriPartial'], { props: Object.fromEntries([...uriPartials].map(([k, v]) => [k, () => v])) });
defineStatic(['WebUtility', 'HttpUtility'], {
  methods: {
    UrlEncode: [1, 1, (a) => { const s = strOrNull(a, 0); return s === null ? null : escapeData(s).replace(/%20/g, '+'); }],
    UrlDecode: [1, 1, (a) => { const s = strOrNull(a, 0); return s === null ? null : unescape(s, true); }],
    HtmlEncode: [1, 1, (a) => { const s = strOrNull(a, 0) ?? ''; chargeWork(s.length * ESCAPE_WEIGHT); return mapChunks(s, htmlEncode, STEPS_PER_GROWTH); }],
  },
});

defineStatic(['Random'], { ctor: [0, 1, (a) => new CsRandom(a.length === 0 ? null : int(a, 0))] });

defineStatic(['List'], {
  ctor: [0, 1, (a, t: CType) => {
    const elem = t.args[0] === undefined ? 'System.Object' : clrName(t.args[0]);
    if (a.length === 0 || typeof a[0] === 'number') return new CsList([], elem);
    const seq = toSeq(a[0]);
    if (seq === null) throw argNull('collection');
    checkCount(seq.length);
    return new CsList([...seq], elem);
  }],
});

const comparers = defineEnum('System.StringComparer', ['Ordinal', 'OrdinalIgnoreCase', 'InvariantCulture', 'InvariantCultureIgnoreCase', 'CurrentCulture', 'CurrentCultureIgnoreCase']);
defineStatic(['StringComparer'], { props: Object.fromEntries([...comparers].map(([k, v]) => [k, () => v])) });

defineStatic(['Dictionary'], {
  ctor: [0, 2, (a) => {
    const cmp = a.find((x): x is CsEnum => x instanceof CsEnum);
    const d = new CsDict(cmp?.name.endsWith('IgnoreCase') ?? false);
    const src = a.find((x) => x instanceof CsDict);
    if (src instanceof CsDict) for (const kv of src.map.values()) d.set(kv.key, kv.value);
    return d;
  }],
});

defineStatic(['Exception'], {
  ctor: [0, 2, (a, t) => new ExceptionValue(t.display.includes('.') ? t.display : `System.${t.display}`, strOrNull(a, 0) ?? `Exception of type 'System.${t.display}' was thrown.`)],
});

class CultureInfo extends Host {
  get kind(): string {
    return 'CultureInfo';
  }
  override get typeName(): string {
    return 'System.Globalization.CultureInfo';
  }
}
const invariant = new CultureInfo();
defineStatic(['CultureInfo'], { props: { InvariantCulture: () => invariant, CurrentCulture: () => invariant } });
defineStatic(['Environment'], { props: { NewLine: () => '\n', MachineName: () => 'tollgate' } });

