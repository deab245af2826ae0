/**
 * Newtonsoft.Json.Linq as C# policies see it: JObject, JArray, JProperty, JValue with parent links
 * (a token added where it already has a parent is cloned, as Newtonsoft does, so trees never share
 * nodes), Newtonsoft's JSON text (2-space indented by default, `"name": value`), and conversion
 * to and from the gateway's plain JSON values.
 * @module
 */
import { CsDateTime, CsGuid, CsTimeSpan, formatDate } from './datetime.ts';
import { CsError, argError } from './errors.ts';
import { BYTES_PER_CHAR, MAX_STRING, NODE_COST, allocate, charge, checkCount, checkStringLength, mapChunks, produceNodes } from './limits.ts';
import { formatDouble, formatInteger } from './numbers.ts';
import { AnonObject, CsChar, CsDict, CsDouble, CsEnum, Host, KeyValue, csTypeName } from './values.ts';

export type JType = 'Object' | 'Array' | 'Property' | 'String' | 'Integer' | 'Float' | 'Boolean' | 'Null' | 'Date' | 'Guid' | 'TimeSpan' | 'Bytes';
export type JPrim = string | number | boolean | null | CsDateTime | CsGuid | CsTimeSpan | Uint8Array;

export abstract class JToken extends Host {
  parent: JToken | null = null;
  abstract get jtype(): JType;
  abstract clone(): JToken;
  override get typeName(): string {
    return `Newtonsoft.Json.Linq.${this.kind}`;
  }
  override toCs(): string {
    return serialize(this, true);
  }
}

export class JValue extends JToken {
  type: JType;
  value: JPrim;
  constructor(type: JType, value: JPrim) {
    super();
    this.type = type;
    this.value = value;
  }
  static null(): JValue {
    return new JValue('Null', null);
  }
  get kind(): string {
    return 'JValue';
  }
  get jtype(): JType {
    return this.type;
  }
  clone(): JValue {
    return new JValue(this.type, this.value);
  }
  /** `JValue.ToString()`: the value as C# prints it (a string is not quoted). */
  override toCs(): string {
    const v = this.value;
    if (v === null) return '';
    if (typeof v === 'string') return v;
    if (typeof v === 'boolean') return v ? 'True' : 'False';
    if (typeof v === 'number') return this.type === 'Float' ? formatDouble(v) : formatInteger(v);
    if (v instanceof Uint8Array) return 'System.Byte[]';
    return v.toCs();
  }
  override formatWith(fmt: string): string {
    const v = this.value;
    if (v instanceof Host) return v.formatWith(fmt);
    return this.type === 'Float' ? new CsDouble(v as number).formatWith(fmt) : this.toCs();
  }
}

export class JProperty extends JToken {
  readonly name: string;
  #value: JToken = JValue.null();
  constructor(name: string, value: JToken) {
    super();
    this.name = name;
    this.value = value;
  }
  get kind(): string {
    return 'JProperty';
  }
  get jtype(): JType {
    return 'Property';
  }
  get value(): JToken {
    return this.#value;
  }
  set value(v: JToken) {
    const adopted = adopt(this, v);
    if (this.#value !== adopted) this.#value.parent = null;
    this.#value = adopted;
  }
  clone(): JProperty {
    return new JProperty(this.name, this.#value.clone());
  }
}

export class JObject extends JToken {
  readonly props = new Map<string, JProperty>();
  get kind(): string {
    return 'JObject';
  }
  get jtype(): JType {
    return 'Object';
  }
  clone(): JObject {
    charge(1);
    produceNodes(this.props.size);
    const o = new JObject();
    for (const p of this.props.values()) o.addProperty(p.clone());
    return o;
  }
  get(name: string): JToken | null {
    return this.props.get(name)?.value ?? null;
  }
  /** The indexer setter: replaces the value in place or appends a property. */
  set(name: string, value: JToken): void {
    const p = this.props.get(name);
    if (p !== undefined) p.value = value;
    else this.addProperty(new JProperty(name, value));
  }
  addProperty(p: JProperty): void {
    if (this.props.has(p.name))
      throw argError(`Can not add property ${p.name} to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object.`);
    checkCount(this.props.size + 1);
    const adopted = adopt(this, p) as JProperty;
    this.props.set(adopted.name, adopted);
  }
  remove(name: string): boolean {
    const p = this.props.get(name);
    if (p === undefined) return false;
    p.parent = null;
    return this.props.delete(name);
  }
  override enumerate(): readonly unknown[] {
    return [...this.props.values()].map((p) => new KeyValue(p.name, p.value));
  }
}

export class JArray extends JToken {
  readonly items: JToken[] = [];
  get kind(): string {
    return 'JArray';
  }
  get jtype(): JType {
    return 'Array';
  }
  clone(): JArray {
    charge(1);
    produceNodes(this.items.length);
    const a = new JArray();
    for (const t of this.items) a.add(t.clone());
    return a;
  }
  add(t: JToken, at = this.items.length): void {
    checkCount(this.items.length + 1);
    // Inserting before the end shifts every later element.
    if (at < this.items.length) {
      charge(1 + (this.items.length - at) / 256);
      this.items.splice(at, 0, adopt(this, t));
    } else this.items.push(adopt(this, t));
  }
  override enumerate(): readonly unknown[] {
    return this.items;
  }
}

function isAncestor(a: JToken, of: JToken): boolean {
  for (let p: JToken | null = of; p !== null; p = p.parent) if (p === a) return true;
  return false;
}

/** Newtonsoft's EnsureParentToken: a token that already belongs somewhere (or would create a cycle) is cloned. */
function adopt(container: JToken, t: JToken): JToken {
  const item = t.parent !== null || isAncestor(t, container) ? t.clone() : t;
  item.parent = container;
  return item;
}

/** The implicit conversions to JToken (`o["x"] = 5`, `new JProperty("x", s)`); `multi` also turns sequences into a JArray. */
export function toToken(v: unknown, multi = true): JToken {
  if (v instanceof JToken) return v;
  const prim = primitiveToken(v);
  if (prim !== null) return prim;
  if (multi) {
    const seq = v instanceof Host ? v.enumerate() : Array.isArray(v) ? (v as unknown[]) : null;
    if (seq !== null && !(v instanceof JToken)) {
      const a = new JArray();
      for (const x of seq) a.add(toToken(x));
      return a;
    }
  }
  throw argError(`Could not determine JSON object type for type ${csTypeName(v)}.`);
}

/** A JValue for a C# primitive, or null when `v` is not one. */
export function primitiveToken(v: unknown): JValue | null {
  if (v === null || v === undefined) return JValue.null();
  if (typeof v === 'string') return new JValue('String', v);
  if (typeof v === 'boolean') return new JValue('Boolean', v);
  if (typeof v === 'number') return new JValue(Number.isInteger(v) ? 'Integer' : 'Float', v);
  if (v instanceof CsDouble) return new JValue('Float', v.v);
  if (v instanceof CsChar) return new JValue('String', v.c);
  if (v instanceof CsEnum) return new JValue('Integer', v.value);
  if (v instanceof CsDateTime) return new JValue('Date', v);
  if (v instanceof CsGuid) return new JValue('Guid', v);
  if (v instanceof CsTimeSpan) return new JValue('TimeSpan', v);
  if (v instanceof Uint8Array) return new JValue('Bytes', v);
  return null;
}

/** `JToken.FromObject`: primitives, sequences, dictionaries and anonymous objects. */
export function fromObject(v: unknown): JToken {
  produceNodes(1);
  if (v instanceof JToken) return v.clone();
  if (v instanceof AnonObject || v instanceof CsDict || v instanceof KeyValue) {
    const o = new JObject();
    const entries: [unknown, unknown][] =
      v instanceof AnonObject ? [...v.fields] : v instanceof KeyValue ? [['Key', v.key], ['Value', v.value]] : [...v.map.values()].map((kv) => [kv.key, kv.value]);
    for (const [k, x] of entries) o.set(typeof k === 'string' ? k : (primitiveToken(k)?.toCs() ?? ''), fromObject(x));
    return o;
  }
  const prim = primitiveToken(v);
  if (prim !== null) return prim;
  const seq = v instanceof Host ? v.enumerate() : Array.isArray(v) ? (v as unknown[]) : null;
  if (seq !== null) {
    const a = new JArray();
    for (const x of seq) a.add(fromObject(x));
    return a;
  }
  throw argError(`Could not convert ${csTypeName(v)} to JSON.`);
}

/** The C# value a JValue holds (`JValue.Value`): long, double, string, bool, null, DateTime... */
export function jvalueToCs(t: JValue): unknown {
  return t.type === 'Float' ? new CsDouble(t.value as number) : t.value;
}

// ---- JSON text ----

const ESCAPE_RE = /["\\\u0000-\u001f\u0085\u2028\u2029]/;
const ESCAPE_RE_G = /["\\\u0000-\u001f\u0085\u2028\u2029]/g;
const SHORT: Readonly<Record<string, string>> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

/** A JSON string literal as Newtonsoft writes it (non-ASCII kept, control characters as lower-case `\u00xx`). */
export function quote(s: string): string {
  if (!ESCAPE_RE.test(s)) return `"${s}"`;
  // Escaping may grow a string sixfold (`\u0001`): built piece by piece, refused at the cap.
  return `"${mapChunks(s, (p) => p.replace(ESCAPE_RE_G, (c) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`))}"`;
}

function valueJson(t: JValue): string {
  const v = t.value;
  switch (t.type) {
    case 'Null':
      return 'null';
    case 'Boolean':
      return v === true ? 'true' : 'false';
    case 'Integer':
      return formatInteger(v as number);
    case 'Float': {
      const s = formatDouble(v as number);
      if (!Number.isFinite(v)) return quote(s);
      return /[.E]/.test(s) ? s : `${s}.0`;
    }
    case 'Date':
      return quote(formatDate(v as CsDateTime, "yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFFK"));
    case 'Bytes':
      checkStringLength(Math.ceil((v as Uint8Array).length / 3) * 4);
      return quote(Buffer.from(v as Uint8Array).toString('base64'));
    case 'String':
      // Quoting reads (and copies) every char of the value.
      if (typeof v === 'string' && v.length > 64) charge(v.length / 256);
      return quote(typeof v === 'string' ? v : '');
    case 'Guid':
    case 'TimeSpan':
      return quote(typeof v === 'string' ? v : v instanceof Host ? v.toCs() : '');
    case 'Object':
    case 'Array':
    case 'Property':
      throw new Error('internal: container token in valueJson');
  }
}

/** Newtonsoft's `ToString()` (indented, 2 spaces) or `ToString(Formatting.None)`. */
export function serialize(root: JToken, indented: boolean): string {
  const out: string[] = [];
  let len = 0;
  const push = (s: string): void => {
    len += s.length;
    if (len > MAX_STRING) checkStringLength(len);
    out.push(s);
  };
  const nl = (level: number): void => {
    if (indented) push(`\n${'  '.repeat(level)}`);
  };
  const write = (t: JToken, level: number): void => {
    charge(NODE_COST);
    if (t instanceof JValue) push(valueJson(t));
    else if (t instanceof JProperty) {
      push(quote(t.name));
      push(indented ? ': ' : ':');
      write(t.value, level);
    } else if (t instanceof JArray || t instanceof JObject) {
      const children: readonly JToken[] = t instanceof JArray ? t.items : [...t.props.values()];
      const [open, close] = t instanceof JArray ? ['[', ']'] : ['{', '}'];
      push(open);
      children.forEach((c, i) => {
        if (i > 0) push(',');
        nl(level + 1);
        write(c, level + 1);
      });
      if (children.length > 0) nl(level);
      push(close);
    }
  };
  write(root, 0);
  return out.join('');
}

/** Parses JSON text (`JToken.Parse`); a syntax error is Newtonsoft's JsonReaderException. */
export function parseJson(text: string): JToken {
  charge(1 + (text.length >>> 8));
  // JSON.parse builds a plain tree first (garbage once converted): counted at two chars' worth per char.
  allocate(text.length * 2 * BYTES_PER_CHAR);
  let raw: unknown;
  try {
    raw = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new CsError('Newtonsoft.Json.JsonReaderException', `Error parsing JSON: ${(err as Error).message}`);
  }
  return fromJson(raw);
}

/** A plain JSON value (as JSON.parse returns) as a JToken tree. */
export function fromJson(v: unknown): JToken {
  produceNodes(1);
  if (Array.isArray(v)) {
    const a = new JArray();
    for (const x of v) a.add(fromJson(x));
    return a;
  }
  if (typeof v === 'object' && v !== null && !(v instanceof Host) && !(v instanceof Uint8Array)) {
    const o = new JObject();
    const rec = v as Record<string, unknown>;
    for (const k of Object.keys(rec)) o.set(k, fromJson(rec[k]));
    return o;
  }
  const prim = primitiveToken(v);
  if (prim === null) throw argError(`Could not convert ${csTypeName(v)} to JSON.`);
  return prim;
}

/** A JToken as a plain JSON value (objects get own properties even for a key like `__proto__`). */
export function toJson(t: JToken): unknown {
  if (t instanceof JArray) return t.items.map(toJson);
  if (t instanceof JObject || t instanceof JProperty) {
    const o: Record<string, unknown> = {};
    const entries = t instanceof JObject ? [...t.props.values()] : [t];
    for (const p of entries) Object.defineProperty(o, p.name, { value: toJson(p.value), enumerable: true, writable: true, configurable: true });
    return o;
  }
  const v = (t as JValue).value;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (v instanceof CsDateTime) return formatDate(v, "yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFFK");
  return v instanceof Host ? v.toCs() : v;
}
