/**
 * APIM's `context` object over the gateway's RequestContext. Every piece is a thin view built on
 * access, so reading `context.Subscription.Id` costs two small objects and no copying; bodies are
 * parsed only when an expression asks for them, and always into a fresh tree, so an expression
 * that edits `Body.As<JObject>()` never changes what the gateway holds.
 * @module
 */
import { presentedKey } from '../auth/key-store.ts';
import type { RequestContext, UserInfo } from '../core/context.ts';
import { CsDateTime, CsGuid, CsTimeSpan } from './datetime.ts';
import { defineType, typeByKind } from './registry.ts';
import { bodyOf, MapView, MultiDict, ResponseModel, View } from './context-views.ts';

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
/** Single members of other parts that only read a field as well (a usual metric dimension), with their part's kind. */
const PLAIN_MEMBERS: ReadonlyMap<string, string> = new Map([['Request.IpAddress', 'IRequest']]);

/**
 * `context.<part>.<name>` (e.g. `context.Subscription.Id`, a usual metric dimension or counter key)
 * read through the same getters as the interpreter but without its frame, budget and dispatch, for
 * the evaluator's fast path (engine.ts). It answers only when the value is a string; undefined
 * means "evaluate it the general way" (no such part, a null or non-string value), which then gives
 * the value or the error it always gave. Null for any other part or an unknown property.
 */
export function contextStringReader(part: string, name: string): ((ctx: RequestContext) => string | undefined) | null {
  const kind = Object.hasOwn(PLAIN_PARTS, part) ? PLAIN_PARTS[part] : PLAIN_MEMBERS.get(`${part}.${name}`);
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
