/**
 * The C# types an expression may name (casts, `is`/`as`, locals, generic arguments), resolved at
 * compile time so that an unknown type is a compile error with a position.
 * @module
 */
import type { TypeRef } from './ast.ts';
import { SyntaxFault } from './errors.ts';

export interface CType {
  /** Normalized name: `string`, `int`, `long`, `double`, `bool`, `JObject`, `List`... */
  readonly n: string;
  readonly args: readonly CType[];
  readonly rank: number;
  readonly nullable: boolean;
  /** As written, for messages. */
  readonly display: string;
}

const ALIASES: Readonly<Record<string, string>> = {
  string: 'string', String: 'string',
  int: 'int', Int32: 'int', uint: 'int', UInt32: 'int', short: 'int', Int16: 'int', ushort: 'int', UInt16: 'int', sbyte: 'int', SByte: 'int',
  long: 'long', Int64: 'long', ulong: 'long', UInt64: 'long',
  double: 'double', Double: 'double', float: 'double', Single: 'double', decimal: 'double', Decimal: 'double',
  bool: 'bool', Boolean: 'bool', char: 'char', Char: 'char', byte: 'byte', Byte: 'byte',
  object: 'object', Object: 'object', dynamic: 'object', var: 'var',
  JToken: 'JToken', JContainer: 'JToken', JObject: 'JObject', JArray: 'JArray', JValue: 'JValue', JProperty: 'JProperty',
  IResponse: 'IResponse', IMessageBody: 'IMessageBody', Jwt: 'Jwt', Authorization: 'Authorization',
  DateTime: 'DateTime', DateTimeOffset: 'DateTimeOffset', TimeSpan: 'TimeSpan', Guid: 'Guid',
  List: 'List', IList: 'List', ICollection: 'List', IReadOnlyList: 'List', IReadOnlyCollection: 'List',
  IEnumerable: 'IEnumerable',
  Dictionary: 'Dictionary', IDictionary: 'Dictionary', IReadOnlyDictionary: 'Dictionary',
  KeyValuePair: 'KeyValuePair', StringBuilder: 'StringBuilder', Random: 'Random',
  Exception: 'Exception',
  Regex: 'Regex', Match: 'Match', Group: 'Group', MatchCollection: 'MatchCollection', GroupCollection: 'GroupCollection',
  RegexOptions: 'RegexOptions',
  HashSet: 'HashSet', ISet: 'HashSet', Uri: 'Uri', UriKind: 'UriKind',
  HashAlgorithm: 'HashAlgorithm', HMAC: 'HMAC', KeyedHashAlgorithm: 'HMAC',
  ...Object.fromEntries(['SHA1', 'SHA256', 'SHA384', 'SHA512', 'MD5'].flatMap((n) => [n, `${n}Managed`, `HMAC${n}`].map((x) => [x, x]))),
};

export const NAMESPACES = new Set([
  'System', 'System.Text', 'System.Linq', 'System.Collections', 'System.Collections.Generic', 'System.Net',
  'Newtonsoft', 'Newtonsoft.Json', 'Newtonsoft.Json.Linq', 'Microsoft.Azure.ApiManagement.Policies', 'System.Security',
  'System.Text.RegularExpressions', 'System.Security.Cryptography', 'System.Globalization',
]);

const VALUE_TYPES = new Set(['int', 'long', 'double', 'bool', 'char', 'byte', 'DateTime', 'DateTimeOffset', 'TimeSpan', 'Guid', 'KeyValuePair']);

/** `System.String` → `String`; null when the qualifier is not a namespace we know. */
export function stripNamespace(name: string): string | null {
  const dot = name.lastIndexOf('.');
  if (dot < 0) return name;
  return NAMESPACES.has(name.slice(0, dot)) ? name.slice(dot + 1) : null;
}

export function resolveType(t: TypeRef): CType {
  const simple = stripNamespace(t.name);
  const n = simple === null ? undefined : (ALIASES[simple] ?? (simple.endsWith('Exception') ? 'Exception' : undefined));
  if (n === undefined) throw new SyntaxFault(`The type or namespace name '${t.name}' could not be found (or is not available in policy expressions)`, t.off);
  if (n === 'var' && (t.rank > 0 || t.nullable)) throw new SyntaxFault("'var' cannot be used here", t.off);
  const args = t.args.map(resolveType);
  const display = `${t.name}${t.args.length > 0 ? `<${args.map((a) => a.display).join(', ')}>` : ''}${t.nullable ? '?' : ''}${'[]'.repeat(t.rank)}`;
  return { n, args, rank: t.rank, nullable: t.nullable, display };
}

export function isValueType(t: CType): boolean {
  return t.rank === 0 && !t.nullable && VALUE_TYPES.has(t.n);
}

export const OBJECT_TYPE: CType = { n: 'object', args: [], rank: 0, nullable: false, display: 'object' };

/** C# names of element types, for `List<T>` type names. */
export function clrName(t: CType): string {
  const names: Readonly<Record<string, string>> = {
    string: 'System.String', int: 'System.Int32', long: 'System.Int64', double: 'System.Double', bool: 'System.Boolean',
    char: 'System.Char', byte: 'System.Byte', object: 'System.Object',
  };
  const base = names[t.n] ?? (t.n.startsWith('J') ? `Newtonsoft.Json.Linq.${t.n}` : `System.${t.n}`);
  return base + '[]'.repeat(t.rank);
}
