/**
 * The value views of APIM's `context` that do not read the request context itself: header and
 * query dictionaries, the variables map, message bodies and responses (`context.Response`, a
 * `send-request` answer stored in a variable). context-model.ts builds them from a RequestContext.
 * @module
 */
import { STATUS_CODES } from 'node:http';
import type { RequestContext } from '../core/context.ts';
import { StoredResponse } from '../policies/send-request/stored-response.ts';
import { argAt, out, str } from './args.ts';
import { castTo, defaultOf } from './conversions.ts';
import { CsError, keyNotFound, unsupported } from './errors.ts';
import { JArray, JObject, parseJson } from './json.ts';
import { chargeWork } from './limits.ts';
import { defineType } from './registry.ts';
import { CsDouble, Host, KeyValue } from './values.ts';

/** A view type: its C# name doubles as the registry key. */
export abstract class View extends Host {
  override toCs(): string {
    return `Microsoft.Azure.ApiManagement.Policies.${this.kind}`;
  }
}

export type HeaderRecord = Readonly<Record<string, string | string[] | number | undefined>>;

/** Headers or query parameters: case-insensitive names, each with a list of values. */
export class MultiDict extends View {
  readonly #get: (lowerName: string) => readonly string[] | undefined;
  readonly #all: () => [string, string[]][];
  constructor(get: (lowerName: string) => readonly string[] | undefined, all: () => [string, string[]][]) {
    super();
    this.#get = get;
    this.#all = all;
  }
  static headers(rec: HeaderRecord): MultiDict {
    const values = (v: unknown): string[] | undefined =>
      typeof v === 'string' ? [v] : typeof v === 'number' ? [String(v)] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
    // Own properties only: a header named `__proto__` or `constructor` must not reach Object.prototype.
    return new MultiDict(
      (n) => (Object.hasOwn(rec, n) ? values(rec[n]) : undefined),
      () => Object.keys(rec).flatMap((k): [string, string[]][] => { const v = values(rec[k]); return v === undefined ? [] : [[k, v]]; }),
    );
  }
  static query(qs: string): MultiDict {
    const map = new Map<string, [string, string[]]>();
    for (const [k, v] of new URLSearchParams(qs)) {
      const e = map.get(k.toLowerCase());
      if (e === undefined) map.set(k.toLowerCase(), [k, [v]]);
      else e[1].push(v);
    }
    return new MultiDict((n) => map.get(n)?.[1], () => [...map.values()]);
  }
  get kind(): string {
    return 'IReadOnlyDictionary';
  }
  lookup(name: unknown): readonly string[] | undefined {
    return typeof name === 'string' ? this.#get(name.toLowerCase()) : undefined;
  }
  override enumerate(): readonly unknown[] {
    return this.#all().map(([k, v]) => new KeyValue(k, v));
  }
  entries(): [string, string[]][] {
    return this.#all();
  }
}

defineType<MultiDict>('IReadOnlyDictionary', 'System.Collections.Generic.IReadOnlyDictionary`2', {
  props: { Count: (d) => d.entries().length, Keys: (d) => d.entries().map(([k]) => k), Values: (d) => d.entries().map(([, v]) => v) },
  index: (d, k) => {
    const v = d.lookup(k[0]);
    if (v === undefined) throw keyNotFound(String(k[0]));
    return [...v];
  },
  methods: {
    GetValueOrDefault: [1, 2, (d, a) => d.lookup(str(a, 0, 'name'))?.join(',') ?? argAt(a, 1)],
    ContainsKey: [1, 1, (d, a) => d.lookup(str(a, 0, 'key')) !== undefined],
    TryGetValue: [2, 2, (d, a) => {
      const v = d.lookup(str(a, 0, 'key'));
      out(a, 1).set(v === undefined ? null : [...v]);
      return v !== undefined;
    }],
  },
});

/** A string-keyed dictionary over a Map (MatchedParameters, Variables). */
export class MapView extends View {
  readonly map: ReadonlyMap<string, unknown>;
  constructor(map: ReadonlyMap<string, unknown>) {
    super();
    this.map = map;
  }
  get kind(): string {
    return 'IReadOnlyMap';
  }
  get(k: unknown): unknown {
    if (typeof k !== 'string') throw keyNotFound(String(k));
    if (!this.map.has(k)) throw keyNotFound(k);
    return fromHost(this.map.get(k));
  }
  override enumerate(): readonly unknown[] {
    return [...this.map].map(([k, v]) => new KeyValue(k, fromHost(v)));
  }
}

/** Values the gateway stored (set-variable, send-request) as C# values. */
function fromHost(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return Number.isInteger(v) ? v : new CsDouble(v);
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'function' || typeof v === 'symbol') throw unsupported('The variable holds a value policy expressions cannot read.');
  if (v instanceof StoredResponse) return new ResponseModel(v.statusCode, v.headers, v.body);
  return v;
}

defineType<MapView>('IReadOnlyMap', 'System.Collections.Generic.IReadOnlyDictionary`2', {
  props: { Count: (m) => m.map.size, Keys: (m) => [...m.map.keys()] },
  index: (m, k) => m.get(k[0]),
  methods: {
    GetValueOrDefault: [1, 2, (m, a, t) => {
      const name = str(a, 0, 'name');
      const type = t[0];
      if (!m.map.has(name) || m.map.get(name) === null || m.map.get(name) === undefined) return a.length > 1 ? argAt(a, 1) : type === undefined ? null : defaultOf(type);
      const v = m.get(name);
      return type === undefined ? v : castTo(v, type);
    }],
    ContainsKey: [1, 1, (m, a) => m.map.has(str(a, 0, 'key'))],
    TryGetValue: [2, 2, (m, a) => {
      const name = str(a, 0, 'key');
      const has = m.map.has(name);
      out(a, 1).set(has ? m.get(name) : null);
      return has;
    }],
  },
});

/** `IMessageBody`: `As<T>()` parses the bytes afresh on every call (preserveContent is implied). */
class BodyModel extends View {
  readonly data: Buffer;
  constructor(data: Buffer) {
    super();
    this.data = data;
  }
  get kind(): string {
    return 'IMessageBody';
  }
}

defineType<BodyModel>('IMessageBody', 'Microsoft.Azure.ApiManagement.Policies.IMessageBody', {
  methods: {
    As: [0, 1, (b, _a, t) => {
      const type = t[0];
      if (type === undefined) throw new CsError('Microsoft.CSharp.RuntimeBinder.RuntimeBinderException', 'As<T>() needs a type argument, e.g. As<JObject>().');
      chargeWork(b.data.length);
      if (type.rank === 1 && type.n === 'byte') return new Uint8Array(b.data);
      if (type.rank > 0) throw unsupported(`Body.As<${type.display}>() is not supported.`);
      const text = b.data.toString('utf8');
      switch (type.n) {
        case 'string':
          return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
        case 'JToken':
        case 'object':
          return parseJson(text);
        case 'JObject':
        case 'JArray': {
          const t = parseJson(text);
          if (t instanceof (type.n === 'JObject' ? JObject : JArray)) return t;
          throw new CsError('Newtonsoft.Json.JsonReaderException', `Error reading ${type.n} from JsonReader: the body is a JSON ${t.jtype.toLowerCase()}.`);
        }
        default:
          throw unsupported(`Body.As<${type.display}>() is not supported (use string, byte[], JObject, JArray or JToken).`);
      }
    }],
  },
});

export function bodyOf(data: Buffer | null): BodyModel | null {
  return data === null || data.length === 0 ? null : new BodyModel(data);
}

export class ResponseModel extends View {
  readonly status: number;
  readonly #raw: HeaderRecord;
  readonly #usage: Usage | null;
  #merged: HeaderRecord | null = null;
  readonly body: Buffer | null;
  /** `usage`: the measured usage, seen under the x-ms-*-tokens names (see withUsageHeaders). */
  constructor(status: number, headers: HeaderRecord, body: Buffer | null, usage: Usage | null = null) {
    super();
    this.status = status;
    this.#raw = headers;
    this.#usage = usage;
    this.body = body;
  }
  get kind(): string {
    return 'IResponse';
  }
  /** The headers expressions see: the response's, plus the usage names it lacks (copied only when enumerated). */
  get headers(): HeaderRecord {
    this.#merged ??= this.#usage === null ? this.#raw : withUsageHeaders(this.#raw, this.#usage);
    return this.#merged;
  }
  /** `Headers`: a lookup reads the response's headers, then the usage names, without building the merged record. */
  headerDict(): MultiDict {
    const usage = this.#usage;
    if (usage === null) return MultiDict.headers(this.#raw);
    const rec = this.#raw;
    const raw = MultiDict.headers(rec);
    return new MultiDict(
      // A header the response has wins, whatever its value (as in the merged record).
      (n) => (Object.hasOwn(rec, n) ? raw.lookup(n) : usageHeader(usage, n)),
      () => MultiDict.headers(this.headers).entries(),
    );
  }
}

defineType<ResponseModel>('IResponse', 'Microsoft.Azure.ApiManagement.Policies.IResponse', {
  props: {
    StatusCode: (r) => r.status,
    StatusReason: (r) => STATUS_CODES[r.status] ?? '',
    Headers: (r) => r.headerDict(),
    Body: (r) => bodyOf(r.body),
  },
});

/**
 * The measured usage under the header names APIM examples read (`x-ms-prompt-tokens`,
 * `x-ms-completion-tokens`, `x-ms-total-tokens`), which Azure OpenAI does not send. Policy
 * expressions see them once the usage is known (a JSON answer: at once; a stream: in the
 * stream-end pass); they are not sent to the client. A header the backend did send wins.
 */
function withUsageHeaders(headers: HeaderRecord, tokens: Usage): HeaderRecord {
  return {
    'x-ms-prompt-tokens': String(tokens.promptTokens),
    'x-ms-completion-tokens': String(tokens.completionTokens),
    'x-ms-total-tokens': String(tokens.totalTokens),
    ...headers,
  };
}

/** One usage name's value as withUsageHeaders has it (for a name the response lacks). */
function usageHeader(tokens: Usage, lowerName: string): readonly string[] | undefined {
  switch (lowerName) {
    case 'x-ms-prompt-tokens':
      return [String(tokens.promptTokens)];
    case 'x-ms-completion-tokens':
      return [String(tokens.completionTokens)];
    case 'x-ms-total-tokens':
      return [String(tokens.totalTokens)];
    default:
      return undefined;
  }
}

type Usage = NonNullable<RequestContext['tokens']>;
