/**
 * APIM's `context` object over the gateway's RequestContext. Every piece is a thin view built on
 * access, so reading `context.Subscription.Id` costs two small objects and no copying; bodies are
 * parsed only when an expression asks for them, and always into a fresh tree, so an expression
 * that edits `Body.As<JObject>()` never changes what the gateway holds.
 * @module
 */
import { STATUS_CODES } from 'node:http';
import { presentedKey } from '../auth/key-store.ts';
import type { RequestContext, UserInfo } from '../core/context.ts';
import { StoredResponse } from '../policies/send-request/stored-response.ts';
import { argAt, out, str } from './args.ts';
import { castTo, defaultOf } from './conversions.ts';
import { CsDateTime, CsGuid, CsTimeSpan } from './datetime.ts';
import { CsError, keyNotFound, unsupported } from './errors.ts';
import { JArray, JObject, parseJson } from './json.ts';
import { chargeWork } from './limits.ts';
import { defineType, typeByKind } from './registry.ts';
import { CsDouble, Host, KeyValue } from './values.ts';

/** A view type: its C# name doubles as the registry key. */
abstract class View extends Host {
  override toCs(): string {
    return `Microsoft.Azure.ApiManagement.Policies.${this.kind}`;
  }
}

export class ContextModel extends View {
  readonly ctx: RequestContext;
  constructor(ctx: RequestContext) {
    super();
    this.ctx = ctx;
  }
  get kind(): string {
    return 'IProxyRequestContext';
  }
}

type HeaderRecord = Readonly<Record<string, string | string[] | number | undefined>>;

/** Headers or query parameters: case-insensitive names, each with a list of values. */
class MultiDict extends View {
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
class MapView extends View {
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

function bodyOf(data: Buffer | null): BodyModel | null {
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

class UrlModel extends View {
  readonly ctx: RequestContext;
  constructor(ctx: RequestContext) {
    super();
    this.ctx = ctx;
  }
  get kind(): string {
    return 'IUrl';
  }
  hostPort(): [string, number] {
    const h = this.ctx.request.headers.host ?? '';
    const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(h);
    return [m?.[1] ?? h, m?.[2] === undefined ? 80 : Number(m[2])];
  }
  override toCs(): string {
    const [host, port] = this.hostPort();
    return `http://${host}:${port}${this.ctx.request.path}${this.ctx.request.query}`;
  }
}

defineType<UrlModel>('IUrl', 'Microsoft.Azure.ApiManagement.Policies.IUrl', {
  props: {
    Scheme: () => 'http',
    Host: (u) => u.hostPort()[0],
    Port: (u) => u.hostPort()[1],
    Path: (u) => u.ctx.request.path,
    Query: (u) => MultiDict.query(u.ctx.request.query),
    QueryString: (u) => u.ctx.request.query,
  },
});

/** Small views whose members all read straight from the RequestContext. */
class Part extends View {
  readonly ctx: RequestContext;
  readonly #kind: string;
  constructor(kind: string, ctx: RequestContext) {
    super();
    this.#kind = kind;
    this.ctx = ctx;
  }
  get kind(): string {
    return this.#kind;
  }
}

type Props = Readonly<Record<string, (p: Part) => unknown>>;
const part = (kind: string, props: Props): void => void defineType<Part>(kind, `Microsoft.Azure.ApiManagement.Policies.${kind}`, { props });

part('IRequest', {
  Method: (p) => p.ctx.request.method,
  Url: (p) => new UrlModel(p.ctx),
  OriginalUrl: (p) => new UrlModel(p.ctx),
  Headers: (p) => MultiDict.headers(p.ctx.request.headers),
  Body: (p) => bodyOf(p.ctx.request.body),
  IpAddress: (p) => (p.ctx.request.ip.startsWith('::ffff:') ? p.ctx.request.ip.slice(7) : p.ctx.request.ip),
  MatchedParameters: (p) => new MapView(p.ctx.request.matchedParameters),
  Certificate: () => null,
  PrivateEndpointConnection: () => null,
});

const key = (p: Part): string | null => p.ctx.presentedKey ?? presentedKey(p.ctx.request.headers) ?? null;
part('ISubscription', {
  Id: (p) => p.ctx.subscription?.id ?? null,
  Name: (p) => p.ctx.subscription?.name ?? null,
  Key: key,
  PrimaryKey: key,
  SecondaryKey: () => null,
  StartDate: () => null,
  EndDate: () => null,
  CreatedTime: () => null,
  CreatedDate: () => null,
});
part('IProduct', {
  Id: (p) => p.ctx.productId,
  Name: (p) => p.ctx.productId,
  // APIM members with no Tollgate counterpart read as null (products have no approval, groups or workspaces).
  ApprovalRequired: () => false,
  Apis: () => null,
  Groups: () => null,
  State: () => 'published',
  SubscriptionLimit: () => null,
  SubscriptionRequired: () => true,
  Workspace: () => null,
});
part('IApi', {
  Id: (p) => p.ctx.api?.id ?? null,
  Name: (p) => p.ctx.api?.name ?? null,
  Path: (p) => p.ctx.api?.path ?? null,
  Version: () => null,
  Revision: () => '1',
  IsCurrentRevision: () => true,
  Protocols: () => ['http', 'https'],
  ServiceUrl: () => null,
  SubscriptionKeyParameterNames: () => null,
  Workspace: () => null,
});
part('IOperation', {
  Id: (p) => p.ctx.operation?.id ?? null,
  Name: (p) => p.ctx.operation?.name ?? null,
  Method: (p) => p.ctx.operation?.method ?? null,
  UrlTemplate: (p) => p.ctx.operation?.urlTemplate ?? null,
});
/** `context.User`'s group (APIM's IGroup). */
class GroupModel extends View {
  readonly id: string;
  readonly name: string;
  constructor(id: string, name: string) {
    super();
    this.id = id;
    this.name = name;
  }
  get kind(): string {
    return 'IGroup';
  }
}
defineType<GroupModel>('IGroup', 'Microsoft.Azure.ApiManagement.Policies.IGroup', { props: { Id: (g) => g.id, Name: (g) => g.name } });

// Read only when context.User is not null, i.e. the subscription names its owner.
const ownerOf = (p: Part): UserInfo => p.ctx.subscription?.user as UserInfo;
part('IUser', {
  Id: (p) => ownerOf(p).id,
  Email: (p) => ownerOf(p).email,
  FirstName: (p) => ownerOf(p).firstName,
  LastName: (p) => ownerOf(p).lastName,
  Note: (p) => ownerOf(p).note,
  Groups: (p) => ownerOf(p).groups.map((g) => new GroupModel(g.id, g.name)),
  Identities: () => [],
  RegistrationDate: () => null,
});
part('IGateway', { Id: () => 'tollgate', InstanceId: () => 'tollgate', IsManaged: () => false });
part('IDeployment', {
  Region: () => 'local',
  ServiceName: () => 'tollgate',
  ServiceId: () => 'tollgate',
  GatewayId: () => 'tollgate',
  Certificates: () => null,
  Gateway: (p) => new Part('IGateway', p.ctx),
});
part('ILastError', {
  Source: () => null,
  Reason: (p) => p.ctx.lastError?.code ?? null,
  Message: (p) => p.ctx.lastError?.message ?? null,
  Scope: () => null,
  Section: () => null,
  Path: () => null,
  PolicyId: () => null,
});

/**
 * APIM's context.Response is never null: before a backend has answered it is an empty 200 OK (no
 * headers, no body). Microsoft's retry/failover pattern depends on it, reading
 * `context.Response.StatusCode == 429` inside `<retry>` before the first forward-request to pick
 * the backend of the first try.
 */
const NO_RESPONSE_YET = new ResponseModel(200, Object.freeze({}), null);

const responseOf = (ctx: RequestContext): ResponseModel => {
  const r = ctx.response;
  if (r === null) return NO_RESPONSE_YET;
  return new ResponseModel(r.status, r.headers, r.body.kind === 'buffer' ? r.body.data : null, ctx.tokens);
};

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

defineType<ContextModel>('IProxyRequestContext', 'Microsoft.Azure.ApiManagement.Policies.IProxyRequestContext', {
  props: {
    Request: (c) => new Part('IRequest', c.ctx),
    Response: (c) => responseOf(c.ctx),
    Subscription: (c) => (c.ctx.subscription === null ? null : new Part('ISubscription', c.ctx)),
    Product: (c) => (c.ctx.productId === null ? null : new Part('IProduct', c.ctx)),
    Api: (c) => (c.ctx.api === null ? null : new Part('IApi', c.ctx)),
    Operation: (c) => (c.ctx.operation === null ? null : new Part('IOperation', c.ctx)),
    User: (c) => (c.ctx.subscription?.user == null ? null : new Part('IUser', c.ctx)),
    Variables: (c) => new MapView(c.ctx.variables),
    RequestId: (c) => requestGuid(c.ctx.requestId),
    Deployment: (c) => new Part('IDeployment', c.ctx),
    Elapsed: (c) => CsTimeSpan.fromMs(performance.now() - c.ctx.timings.start),
    LastError: (c) => (c.ctx.lastError === null ? null : new Part('ILastError', c.ctx)),
    Tracing: () => false,
    Timestamp: (c) => CsDateTime.fromMs(performance.timeOrigin + c.ctx.timings.start, 'Utc'),
    GraphQL: () => null,
    Workspace: () => null,
  },
  // APIM's trace sink is its test console; Tollgate has none, so `context.Trace(...)` does nothing.
  methods: { Trace: [1, 2, () => null] },
});

/** The parts of `context` whose properties only read fields of the request context (no parsing, no clock, no throw). */
const PLAIN_PARTS: Readonly<Record<string, string>> = { Subscription: 'ISubscription', Product: 'IProduct', Api: 'IApi', Operation: 'IOperation' };

/**
 * `context.<part>.<name>` (e.g. `context.Subscription.Id`, a usual metric dimension or counter key)
 * read through the same getters as the interpreter but without its frame, budget and dispatch, for
 * the evaluator's fast path (engine.ts). It answers only when the value is a string; undefined
 * means "evaluate it the general way" (no such part, a null or non-string value), which then gives
 * the value or the error it always gave. Null for any other part or an unknown property.
 */
export function contextStringReader(part: string, name: string): ((ctx: RequestContext) => string | undefined) | null {
  const kind = Object.hasOwn(PLAIN_PARTS, part) ? PLAIN_PARTS[part] : undefined;
  if (kind === undefined) return null;
  const partOf = typeByKind('IProxyRequestContext')?.props.get(part);
  const read = typeByKind(kind)?.props.get(name);
  if (partOf === undefined || read === undefined) return null;
  return (ctx) => {
    const p = partOf(new ContextModel(ctx));
    if (p === null) return undefined;
    const v = read(p);
    return typeof v === 'string' ? v : undefined;
  };
}

function requestGuid(id: string): CsGuid {
  const hex = id.replaceAll('-', '').toLowerCase();
  return /^[0-9a-f]{32}$/.test(hex) ? new CsGuid(hex) : new CsGuid(hex, id);
}
