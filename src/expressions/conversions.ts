/**
 * Casts, `is`/`as` tests and implicit conversions. Values carry no static type here, so a cast
 * applies whichever C# conversion fits the runtime value: `(int)3.9` truncates, `(string)token`
 * uses Newtonsoft's explicit operator, `(string)5` fails as unboxing would.
 * @module
 */
import { CsDateTime, CsGuid, CsTimeSpan, parseDate, parseGuid } from './datetime.ts';
import { CsError, argError, formatError, invalidCast, nullRef } from './errors.ts';
import { JArray, JObject, JProperty, JToken, JValue, jvalueToCs, toToken } from './json.ts';
import { parseDouble, parseInteger, roundHalfEven } from './numbers.ts';
import { type CType, clrName, isValueType } from './types.ts';
import { CsChar, CsDict, CsDouble, CsEnum, CsList, Host, KeyValue, csTypeName, dbl } from './values.ts';

/** `bool.Parse`. */
export function parseBool(s: string): boolean {
  const t = s.trim().toLowerCase();
  if (t === 'true') return true;
  if (t === 'false') return false;
  throw formatError(`String '${s}' was not recognized as a valid Boolean.`);
}

const JNAMES: Readonly<Record<string, string>> = { int: 'Int32', long: 'Int64', double: 'Double', bool: 'Boolean', char: 'Char', byte: 'Byte', string: 'String' };

/** Newtonsoft's explicit conversions from a JToken (`(string)token`, `(int)token`, `Value<T>()`). */
export function fromToken(t: JToken, ct: CType): unknown {
  if (isTokenType(ct.n)) {
    if (isType(t, ct)) return t;
    throw invalidCast(t.typeName, `Newtonsoft.Json.Linq.${ct.n}`);
  }
  if (ct.n === 'object') return t instanceof JValue ? jvalueToCs(t) : t;
  const target = JNAMES[ct.n] ?? ct.n;
  if (!(t instanceof JValue)) throw argError(`Can not convert ${t.jtype} to ${target}.`);
  const v = t.value;
  if (v === null) {
    if (ct.n === 'string' || ct.nullable || ct.rank > 0) return null;
    throw argError(`Can not convert Null to ${target}.`);
  }
  if (ct.rank === 1 && ct.n === 'byte') {
    if (v instanceof Uint8Array) return v;
    if (typeof v === 'string') return new Uint8Array(Buffer.from(v, 'base64'));
  } else if (ct.rank === 0) {
    switch (ct.n) {
      case 'string':
        return t.type === 'Bytes' ? Buffer.from(v as Uint8Array).toString('base64') : t.toCs();
      case 'int':
      case 'long':
      case 'byte':
        if (typeof v === 'number') return Number.isInteger(v) && t.type === 'Integer' ? v : roundHalfEven(v);
        if (typeof v === 'boolean') return v ? 1 : 0;
        if (typeof v === 'string') return parseInteger(v, ct.n === 'long' ? 64 : 32);
        break;
      case 'double':
        if (typeof v === 'number') return dbl(v);
        if (typeof v === 'boolean') return dbl(v ? 1 : 0);
        if (typeof v === 'string') return dbl(parseDouble(v));
        break;
      case 'bool':
        if (typeof v === 'boolean') return v;
        if (typeof v === 'number') return v !== 0;
        if (typeof v === 'string') return parseBool(v);
        break;
      case 'char':
        if (typeof v === 'string' && v.length === 1) return CsChar.of(v);
        if (typeof v === 'number') return CsChar.of(String.fromCharCode(v & 0xffff));
        break;
      case 'DateTime':
      case 'DateTimeOffset':
        if (v instanceof CsDateTime) return v;
        if (typeof v === 'string') return parseDate(v, ct.n === 'DateTimeOffset');
        break;
      case 'Guid':
        if (v instanceof CsGuid) return v;
        if (typeof v === 'string') return parseGuid(v);
        break;
      case 'TimeSpan':
        if (v instanceof CsTimeSpan) return v;
        break;
      default:
    }
  }
  throw argError(`Can not convert ${t.jtype} to ${target}.`);
}

function isTokenType(n: string): boolean {
  return n === 'JToken' || n === 'JObject' || n === 'JArray' || n === 'JValue' || n === 'JProperty';
}

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

/** `x is T` (type patterns). */
export function isType(v: unknown, ct: CType): boolean {
  if (v === null || v === undefined) return false;
  if (ct.rank > 0) return ct.rank === 1 && ct.n === 'byte' ? v instanceof Uint8Array : Array.isArray(v);
  switch (ct.n) {
    case 'object':
    case 'var':
      return true;
    case 'string':
      return typeof v === 'string';
    case 'int':
      return typeof v === 'number' && v >= INT_MIN && v <= INT_MAX;
    case 'long':
    case 'byte':
      return typeof v === 'number';
    case 'double':
      return v instanceof CsDouble;
    case 'bool':
      return typeof v === 'boolean';
    case 'char':
      return v instanceof CsChar;
    case 'JToken':
      return v instanceof JToken;
    case 'JObject':
      return v instanceof JObject;
    case 'JArray':
      return v instanceof JArray;
    case 'JValue':
      return v instanceof JValue;
    case 'JProperty':
      return v instanceof JProperty;
    case 'DateTime':
      return v instanceof CsDateTime && !v.isOffset;
    case 'DateTimeOffset':
      return v instanceof CsDateTime && v.isOffset;
    case 'TimeSpan':
      return v instanceof CsTimeSpan;
    case 'Guid':
      return v instanceof CsGuid;
    case 'List':
      return v instanceof CsList;
    case 'Dictionary':
      return v instanceof CsDict;
    case 'KeyValuePair':
      return v instanceof KeyValue;
    case 'IEnumerable':
      return typeof v === 'string' || Array.isArray(v) || v instanceof Uint8Array || (v instanceof Host && v.enumerate() !== null);
    default:
      // Host types named by kind: IResponse, IMessageBody, StringBuilder, Random, Exception.
      return v instanceof Host && (v.kind === ct.n || v.isA(ct.n));
  }
}

/** `(T)x`. */
export function castTo(v: unknown, ct: CType): unknown {
  if (v === null || v === undefined) {
    if (isValueType(ct)) throw nullRef();
    return null;
  }
  if (isType(v, ct) && ct.n !== 'int' && ct.n !== 'byte') return v;
  if (v instanceof JToken && ct.n !== 'IEnumerable') return fromToken(v, ct);
  if (ct.rank === 0) {
    switch (ct.n) {
      case 'int':
      case 'long':
      case 'byte': {
        let n: number | null = null;
        if (typeof v === 'number') n = v;
        else if (v instanceof CsDouble) n = Number.isFinite(v.v) ? Math.trunc(v.v) : 0;
        else if (v instanceof CsChar) n = v.code;
        else if (v instanceof CsEnum) n = v.value;
        if (n !== null) return ct.n === 'int' ? n | 0 : ct.n === 'byte' ? n & 255 : n;
        break;
      }
      case 'double':
        if (typeof v === 'number') return dbl(v);
        if (v instanceof CsChar) return dbl(v.code);
        break;
      case 'char':
        if (typeof v === 'number') return CsChar.of(String.fromCharCode(v & 0xffff));
        break;
      case 'JToken': {
        const t = toToken(v, false);
        return t;
      }
      case 'DateTimeOffset':
        if (v instanceof CsDateTime) return new CsDateTime(v.ms, v.sub, 'Utc', true);
        break;
      case 'DateTime':
        if (v instanceof CsDateTime) return new CsDateTime(v.ms, v.sub, 'Unspecified', false);
        break;
      default:
    }
  }
  throw invalidCast(csTypeName(v), ct.n === 'IResponse' ? 'Microsoft.Azure.ApiManagement.Policies.IResponse' : clrName(ct));
}

/** `x as T`. */
export function asType(v: unknown, ct: CType): unknown {
  return isType(v, ct) ? v : null;
}

/** Assignment to a typed local (`double d = 5;`, `JToken t = "x";`): only C#'s implicit conversions. */
export function implicitTo(v: unknown, ct: CType): unknown {
  if (ct.n === 'var' || (ct.n === 'object' && ct.rank === 0)) return v;
  if (v === null || v === undefined) {
    if (isValueType(ct)) throw new CsError('System.InvalidCastException', `Cannot convert null to '${ct.display}' because it is a non-nullable value type`);
    return null;
  }
  if (ct.rank === 0) {
    if (ct.n === 'double' && typeof v === 'number') return dbl(v);
    if ((ct.n === 'double' || ct.n === 'int' || ct.n === 'long') && v instanceof CsChar) return ct.n === 'double' ? dbl(v.code) : v.code;
    if (ct.n === 'JToken' && !(v instanceof JToken)) return toToken(v, false);
    if (ct.n === 'DateTimeOffset' && v instanceof CsDateTime) return new CsDateTime(v.ms, v.sub, 'Utc', true);
  }
  if (isType(v, ct)) return v;
  throw new CsError('System.InvalidCastException', `Cannot implicitly convert type '${csTypeName(v)}' to '${ct.display}'`);
}

/** `default(T)`. */
export function defaultOf(ct: CType): unknown {
  if (!isValueType(ct)) return null;
  switch (ct.n) {
    case 'int':
    case 'long':
    case 'byte':
      return 0;
    case 'double':
      return dbl(0);
    case 'bool':
      return false;
    case 'char':
      return CsChar.of('\0');
    case 'TimeSpan':
      return new CsTimeSpan(0);
    case 'Guid':
      return new CsGuid('0'.repeat(32));
    case 'DateTime':
    case 'DateTimeOffset':
      return new CsDateTime(-62135596800000, 0, 'Unspecified', ct.n === 'DateTimeOffset');
    default:
      return null;
  }
}
