/**
 * Members and statics of Newtonsoft's JToken family (JObject, JArray, JValue, JProperty), plus
 * JsonConvert, Formatting and JTokenType.
 * @module
 */
import { argAt, ignoreCase, int, out, str } from './args.ts';
import { defaultOf, fromToken, isType } from './conversions.ts';
import { CsError, argError, invalidOp, outOfRange } from './errors.ts';
import { JArray, JObject, JProperty, JToken, JValue, fromObject, jvalueToCs, parseJson, primitiveToken, serialize, toToken } from './json.ts';
import { chargeWork } from './limits.ts';
import { toSeq } from './linq.ts';
import { csEquals } from './operators.ts';
import { type MethodSpec, defineStatic, defineType } from './registry.ts';
import { selectToken, tokenPath } from './json-path.ts';
import { type CType, OBJECT_TYPE } from './types.ts';
import { CsDict, CsEnum, CsList, Host, csString, csTypeName, defineEnum } from './values.ts';

const tokenType = defineEnum('Newtonsoft.Json.Linq.JTokenType', [
  'None', 'Object', 'Array', 'Constructor', 'Property', 'Comment', 'Integer', 'Float', 'String', 'Boolean', 'Null', 'Undefined', 'Date', 'Raw', 'Bytes', 'Guid', 'Uri', 'TimeSpan',
]);
const formatting = defineEnum('Newtonsoft.Json.Formatting', ['None', 'Indented']);
defineStatic(['JTokenType'], { props: Object.fromEntries([...tokenType].map(([k, v]) => [k, () => v])) });
defineStatic(['Formatting'], { props: Object.fromEntries([...formatting].map(([k, v]) => [k, () => v])) });

function children(t: JToken): JToken[] {
  chargeWork(t instanceof JObject ? t.props.size : t instanceof JArray ? t.items.length : 1);
  if (t instanceof JObject) return [...t.props.values()];
  if (t instanceof JArray) return t.items;
  if (t instanceof JProperty) return [t.value];
  return [];
}

function siblings(t: JToken): { list: JToken[]; i: number } | null {
  const p = t.parent;
  if (p === null || p instanceof JProperty) return null;
  const list = children(p);
  return { list, i: list.indexOf(t) };
}

/** `ToObject<T>()`. */
function toObject(t: JToken, ct: CType): unknown {
  const elem = ct.rank > 0 ? { ...ct, rank: ct.rank - 1 } : ct.args[ct.args.length - 1];
  if ((ct.rank > 0 && !(ct.n === 'byte' && ct.rank === 1)) || ct.n === 'List' || ct.n === 'IEnumerable') {
    if (!(t instanceof JArray)) throw new CsError('Newtonsoft.Json.JsonSerializationException', `Cannot deserialize the current JSON ${t.jtype.toLowerCase()} into type '${ct.display}'.`);
    const items = t.items.map((x) => toObject(x, elem ?? OBJECT_TYPE));
    return ct.n === 'List' ? new CsList(items) : items;
  }
  if (ct.n === 'Dictionary') {
    if (!(t instanceof JObject)) throw new CsError('Newtonsoft.Json.JsonSerializationException', `Cannot deserialize the current JSON ${t.jtype.toLowerCase()} into type '${ct.display}'.`);
    const d = new CsDict();
    for (const p of t.props.values()) d.set(p.name, toObject(p.value, elem ?? OBJECT_TYPE));
    return d;
  }
  if (ct.n === 'object' && !(t instanceof JValue)) return t.clone();
  return fromToken(t, ct);
}

function valueOf(self: JToken, args: unknown[], targs: readonly CType[]): unknown {
  const ct = targs[0] ?? OBJECT_TYPE;
  let t: JToken | null = self;
  if (args.length === 1) t = getIndexed(self, [args[0]]);
  if (t === null) return defaultOf(ct);
  return fromToken(t, ct);
}

/** The indexer getter of every token type. */
function getIndexed(t: JToken, keys: unknown[]): JToken | null {
  const k = keys[0];
  if (t instanceof JObject) {
    if (typeof k !== 'string') throw argError(`Accessed JObject values with invalid key value: ${csString(k)}. Object property name expected.`);
    return t.get(k);
  }
  if (t instanceof JArray) {
    if (typeof k !== 'number') throw argError(`Accessed JArray values with invalid key value: "${csString(k)}". Int32 array index expected.`);
    if (k < 0 || k >= t.items.length) throw outOfRange();
    return t.items[k] ?? null;
  }
  throw invalidOp(`Cannot access child value on ${t.typeName}.`);
}

function setIndexed(t: JToken, keys: unknown[], v: unknown): void {
  const k = keys[0];
  if (t instanceof JObject && typeof k === 'string') return t.set(k, toToken(v, false));
  if (t instanceof JArray && typeof k === 'number') {
    if (k < 0 || k >= t.items.length) throw outOfRange();
    const old = t.items[k];
    t.items.splice(k, 1);
    if (old !== undefined) old.parent = null;
    return t.add(toToken(v, false), k);
  }
  if (t instanceof JObject || t instanceof JArray) getIndexed(t, keys);
  throw invalidOp(`Cannot set child value on ${t.typeName}.`);
}

function removeSelf(t: JToken): void {
  const p = t.parent;
  if (p === null) throw invalidOp('The parent is missing.');
  if (p instanceof JArray) p.items.splice(p.items.indexOf(t), 1);
  else if (p instanceof JObject && t instanceof JProperty) p.remove(t.name);
  else throw invalidOp('Cannot remove a property value; remove the property instead.');
  t.parent = null;
}

function replaceSelf(t: JToken, v: unknown): void {
  const p = t.parent;
  if (p === null) throw invalidOp('The parent is missing.');
  if (p instanceof JProperty) p.value = toToken(v, false);
  else if (p instanceof JArray) setIndexed(p, [p.items.indexOf(t)], v);
  else throw invalidOp('Cannot replace a property with a value.');
}

function toStr(t: JToken, a: unknown[]): string {
  const f = a[0];
  if (f instanceof CsEnum && f.type === 'Newtonsoft.Json.Formatting') return t instanceof JValue && t.type === 'String' ? serialize(t, false) : serialize(t, f.value === 1);
  if (typeof f === 'string' && t instanceof JValue) return t.formatWith(f);
  return t.toCs();
}

type M<T> = Readonly<Record<string, MethodSpec<T>>>;

const common = {
  props: {
    Type: (t: JToken) => tokenType.get(t.jtype) ?? null,
    HasValues: (t: JToken) => children(t).length > 0,
    Parent: (t: JToken) => t.parent,
    Root: (t: JToken) => {
      let r = t;
      while (r.parent !== null) r = r.parent;
      return r;
    },
    Path: (t: JToken) => tokenPath(t),
    First: (t: JToken) => children(t)[0] ?? null,
    Last: (t: JToken) => children(t).at(-1) ?? null,
    Next: (t: JToken) => { const s = siblings(t); return s === null ? null : (s.list[s.i + 1] ?? null); },
    Previous: (t: JToken) => { const s = siblings(t); return s === null || s.i === 0 ? null : (s.list[s.i - 1] ?? null); },
  },
  methods: {
    ToString: [0, 2, toStr],
    Value: [0, 1, valueOf],
    Values: [0, 1, (t, a, targs) => {
      const src = a.length === 1 ? getIndexed(t, [a[0]]) : t;
      const items = src === null ? [] : children(src).map((c) => (c instanceof JProperty ? c.value : c));
      return targs[0] === undefined ? items : items.map((c) => fromToken(c, targs[0] ?? OBJECT_TYPE));
    }],
    Children: [0, 0, (t) => [...children(t)]],
    SelectToken: [1, 2, (t, a) => selectToken(t, str(a, 0, 'path'), a[1] === true)],
    DeepClone: [0, 0, (t) => t.clone()],
    Remove: [0, 0, (t) => removeSelf(t)],
    Replace: [1, 1, (t, a) => replaceSelf(t, a[0])],
    ToObject: [0, 0, (t, _a, targs) => toObject(t, targs[0] ?? OBJECT_TYPE)],
    CompareTo: [1, 1, (t, a) => (csEquals(t, a[0]) ? 0 : 1)],
  } satisfies M<JToken>,
};

defineType<JObject>('JObject', 'Newtonsoft.Json.Linq.JObject', {
  props: { ...common.props, Count: (o) => o.props.size },
  index: getIndexed,
  setIndex: setIndexed,
  methods: {
    ...common.methods,
    Properties: [0, 0, (o) => [...o.props.values()]],
    Property: [1, 2, (o, a) => findProperty(o, str(a, 0, 'name'), a.length > 1 && ignoreCase(a[1]))],
    GetValue: [1, 2, (o, a) => findProperty(o, str(a, 0, 'propertyName'), a.length > 1 && ignoreCase(a[1]))?.value ?? null],
    TryGetValue: [2, 3, (o, a) => {
      const p = findProperty(o, str(a, 0, 'propertyName'), a.length > 2 && ignoreCase(a[1]));
      out(a, a.length - 1).set(p?.value ?? null);
      return p !== null;
    }],
    ContainsKey: [1, 1, (o, a) => o.props.has(str(a, 0, 'propertyName'))],
    Add: [1, 2, (o, a) => {
      if (a.length === 2) return o.addProperty(new JProperty(str(a, 0, 'propertyName'), toToken(a[1], false)));
      addToObject(o, a[0]);
    }],
    Remove: [0, 1, (o, a) => (a.length === 0 ? removeSelf(o) : o.remove(str(a, 0, 'propertyName')))],
    RemoveAll: [0, 0, (o) => { for (const k of [...o.props.keys()]) o.remove(k); }],
    Merge: [1, 2, (o, a) => { if (a[0] instanceof JObject) merge(o, a[0]); }],
  } satisfies M<JObject>,
});

function findProperty(o: JObject, name: string, ic: boolean): JProperty | null {
  const exact = o.props.get(name);
  if (exact !== undefined || !ic) return exact ?? null;
  const up = name.toUpperCase();
  chargeWork(o.props.size);
  for (const p of o.props.values()) if (p.name.toUpperCase() === up) return p;
  return null;
}

/** JObject.Merge with Newtonsoft's defaults: objects merge recursively, arrays concatenate, nulls are ignored. */
function merge(into: JObject, from: JObject): void {
  chargeWork(from.props.size * 16);
  for (const p of from.props.values()) {
    const cur = into.get(p.name);
    const v = p.value;
    if (cur instanceof JObject && v instanceof JObject) merge(cur, v);
    else if (cur instanceof JArray && v instanceof JArray) for (const x of v.items) cur.add(x);
    else if (!(v instanceof JValue && v.type === 'Null') || cur === null) into.set(p.name, v);
  }
}

const indexOfValue = (a: JArray, v: unknown): number => {
  chargeWork(a.items.length);
  return a.items.findIndex((x) => x === v || csEquals(x, v));
};

defineType<JArray>('JArray', 'Newtonsoft.Json.Linq.JArray', {
  props: { ...common.props, Count: (a) => a.items.length },
  index: getIndexed,
  setIndex: setIndexed,
  methods: {
    ...common.methods,
    Add: [1, 1, (arr, a) => arr.add(toToken(a[0], false))],
    AddFirst: [1, 1, (arr, a) => arr.add(toToken(a[0], false), 0)],
    Insert: [2, 2, (arr, a) => {
      const i = int(a, 0);
      if (i < 0 || i > arr.items.length) throw outOfRange();
      arr.add(toToken(a[1], false), i);
    }],
    RemoveAt: [1, 1, (arr, a) => {
      const i = int(a, 0);
      if (i < 0 || i >= arr.items.length) throw outOfRange();
      chargeWork(arr.items.length - i);
      const [old] = arr.items.splice(i, 1);
      if (old !== undefined) old.parent = null;
    }],
    Remove: [0, 1, (arr, a) => {
      if (a.length === 0) return removeSelf(arr);
      chargeWork(arr.items.length);
      const i = arr.items.findIndex((x) => x === a[0]);
      if (i < 0) return false;
      const [old] = arr.items.splice(i, 1);
      if (old !== undefined) old.parent = null;
      return true;
    }],
    Clear: [0, 0, (arr) => { for (const x of arr.items.splice(0)) x.parent = null; }],
    Contains: [1, 1, (arr, a) => indexOfValue(arr, a[0]) >= 0],
    IndexOf: [1, 1, (arr, a) => indexOfValue(arr, a[0])],
  } satisfies M<JArray>,
});

defineType<JValue>('JValue', 'Newtonsoft.Json.Linq.JValue', {
  props: { ...common.props, Value: (v) => jvalueToCs(v) },
  setters: {
    Value: (v, x) => {
      const t = primitiveToken(x);
      if (t === null) throw argError(`Could not determine JSON object type for type ${csTypeName(x)}.`);
      v.type = t.type;
      v.value = t.value;
    },
  },
  index: getIndexed,
  methods: { ...common.methods },
});

defineType<JProperty>('JProperty', 'Newtonsoft.Json.Linq.JProperty', {
  props: { ...common.props, Name: (p) => p.name, Value: (p) => p.value },
  setters: { Value: (p, v) => void (p.value = toToken(v, false)) },
  index: getIndexed,
  methods: { ...common.methods },
});

function addToObject(o: JObject, c: unknown): void {
  if (c === null || c === undefined) return;
  if (c instanceof JProperty) return o.addProperty(c);
  if (c instanceof JObject) {
    for (const p of c.props.values()) o.addProperty(p);
    return;
  }
  const seq = c instanceof JToken || typeof c === 'string' ? null : toSeq(c);
  if (seq === null) throw argError(`Can not add ${c instanceof Host ? c.typeName : csTypeName(c)} to Newtonsoft.Json.Linq.JObject.`);
  chargeWork(seq.length);
  for (const x of seq) addToObject(o, x);
}

function addToArray(arr: JArray, c: unknown): void {
  const seq = c instanceof JToken || typeof c === 'string' || c === null || c instanceof Uint8Array ? null : toSeq(c);
  if (seq === null) return arr.add(toToken(c, false));
  chargeWork(seq.length);
  for (const x of seq) arr.add(toToken(x, false));
}

function parseAs<T extends JToken>(json: string, want: new () => T, what: string): T {
  const t = parseJson(json);
  if (t instanceof want) return t;
  throw new CsError('Newtonsoft.Json.JsonReaderException', `Error reading ${what} from JsonReader. Current JsonReader item is not ${what === 'JObject' ? 'an object' : 'an array'}: ${t.jtype === 'Array' ? 'StartArray' : t.jtype === 'Object' ? 'StartObject' : t.jtype}. Path '', line 1, position 1.`);
}

defineStatic(['JObject'], {
  methods: {
    Parse: [1, 2, (a) => parseAs(str(a, 0, 'json'), JObject, 'JObject')],
    FromObject: [1, 2, (a) => {
      const t = fromObject(a[0]);
      if (t instanceof JObject) return t;
      throw argError(`Object serialized to ${t.jtype}. JObject instance expected.`);
    }],
  },
  ctor: [0, Infinity, (a) => {
    const o = new JObject();
    for (const c of a) addToObject(o, c);
    return o;
  }],
});

defineStatic(['JArray'], {
  methods: {
    Parse: [1, 2, (a) => parseAs(str(a, 0, 'json'), JArray, 'JArray')],
    FromObject: [1, 2, (a) => {
      const t = fromObject(a[0]);
      if (t instanceof JArray) return t;
      throw argError(`Object serialized to ${t.jtype}. JArray instance expected.`);
    }],
  },
  ctor: [0, Infinity, (a) => {
    const arr = new JArray();
    for (const c of a) addToArray(arr, c);
    return arr;
  }],
});

defineStatic(['JToken', 'JContainer'], {
  methods: {
    Parse: [1, 2, (a) => parseJson(str(a, 0, 'json'))],
    FromObject: [1, 2, (a) => fromObject(a[0])],
    DeepEquals: [2, 2, (a) => deepEquals(a[0], a[1])],
  },
});

function deepEquals(x: unknown, y: unknown): boolean {
  if (!(x instanceof JToken) || !(y instanceof JToken)) return x === y;
  if (x instanceof JValue || y instanceof JValue) return x instanceof JValue && y instanceof JValue && csEquals(x, y) && (x.type === 'Null') === (y.type === 'Null');
  if (x.jtype !== y.jtype) return false;
  if (x instanceof JProperty && y instanceof JProperty) return x.name === y.name && deepEquals(x.value, y.value);
  const cx = children(x);
  const cy = children(y);
  if (x instanceof JObject && y instanceof JObject) return cx.length === cy.length && [...x.props].every(([k, p]) => deepEquals(p.value, y.get(k)));
  return cx.length === cy.length && cx.every((c, i) => deepEquals(c, cy[i]));
}

defineStatic(['JValue'], {
  methods: {
    CreateNull: [0, 0, () => JValue.null()],
    CreateString: [1, 1, (a) => new JValue(a[0] === null ? 'Null' : 'String', typeof a[0] === 'string' ? a[0] : null)],
  },
  ctor: [1, 1, (a) => {
    const t = a[0] instanceof JValue ? a[0].clone() : primitiveToken(a[0]);
    if (t === null) throw argError(`Could not determine JSON object type for type ${csTypeName(a[0])}.`);
    return t;
  }],
});

defineStatic(['JProperty'], {
  ctor: [1, Infinity, (a) => {
    const name = str(a, 0, 'name');
    if (a.length > 2) {
      const arr = new JArray();
      for (const c of a.slice(1)) addToArray(arr, c);
      return new JProperty(name, arr);
    }
    return new JProperty(name, a.length === 1 ? JValue.null() : toToken(argAt(a, 1)));
  }],
});

defineStatic(['JsonConvert'], {
  methods: {
    SerializeObject: [1, 3, (a) => {
      const f = a.find((x): x is CsEnum => x instanceof CsEnum && x.type === 'Newtonsoft.Json.Formatting');
      return serialize(fromObject(a[0]), f?.value === 1);
    }],
    DeserializeObject: [1, 2, (a, targs) => {
      const t = parseJson(str(a, 0, 'value'));
      if (targs[0] !== undefined) return isType(t, targs[0]) ? t : toObject(t, targs[0]);
      return t instanceof JValue ? jvalueToCs(t) : t;
    }],
  },
});
