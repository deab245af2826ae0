/**
 * The static shape of APIM's `context` object, so that a misspelled member
 * (`context.Subscription.Idd`) is a load error with a "did you mean", as APIM's C# compiler makes
 * it, instead of a 500 on the first request that reaches it.
 *
 * The table is APIM's context-variable reference (learn.microsoft.com, "API Management policy
 * expressions", Context variable); a member counts as known when it is there or in the run-time
 * member table of the same type (context-model.ts), so the check never rejects what runs. Members
 * APIM has that mean nothing in Tollgate (workspaces, GraphQL, product groups) read as null at run
 * time; `Body.AsFormUrlEncodedContent()` loads and fails at run time with the expression error.
 * @module
 */
import type { Expr, Stmt } from './ast.ts';
import { SyntaxFault } from './errors.ts';
import { LINQ } from './linq.ts';
import { typeByKind } from './registry.ts';
import { didYouMean } from '../util/did-you-mean.ts';

/** A member's result: another context type (by its kind), or null for a plain .NET value not checked further. */
type Members = Readonly<Record<string, string | null>>;

interface ContextType {
  readonly props: Members;
  readonly methods: readonly string[];
  /** LINQ applies (dictionaries). */
  readonly enumerable: boolean;
}

const type = (props: Members, methods: readonly string[] = [], enumerable = false): ContextType => ({ props, methods, enumerable });
const plain = (...names: string[]): Members => Object.fromEntries(names.map((n) => [n, null]));

const DICTIONARY = type(plain('Count', 'Keys', 'Values'), ['GetValueOrDefault', 'ContainsKey', 'TryGetValue'], true);

/** Keyed by the run-time view's `kind` (context-model.ts). */
const TYPES: ReadonlyMap<string, ContextType> = new Map([
  [
    'IProxyRequestContext',
    type(
      {
        ...plain('Elapsed', 'RequestId', 'Timestamp', 'Tracing'),
        Api: 'IApi',
        Deployment: 'IDeployment',
        GraphQL: 'IGraphQL',
        LastError: 'ILastError',
        Operation: 'IOperation',
        Product: 'IProduct',
        Request: 'IRequest',
        Response: 'IResponse',
        Subscription: 'ISubscription',
        User: 'IUser',
        Variables: 'IReadOnlyMap',
        Workspace: 'IWorkspace',
      },
      ['Trace'],
    ),
  ],
  [
    'IApi',
    type({
      ...plain('Id', 'IsCurrentRevision', 'Name', 'Path', 'Protocols', 'Revision', 'Version'),
      ServiceUrl: 'IUrl',
      SubscriptionKeyParameterNames: 'ISubscriptionKeyParameterNames',
      Workspace: 'IWorkspace',
    }),
  ],
  ['IDeployment', type({ ...plain('GatewayId', 'Region', 'ServiceId', 'ServiceName', 'Certificates'), Gateway: 'IGateway' })],
  ['IGateway', type(plain('Id', 'InstanceId', 'IsManaged'))],
  ['IGraphQL', type(plain('Parent', 'Arguments'))],
  ['ILastError', type(plain('Source', 'Reason', 'Message', 'Scope', 'Section', 'Path', 'PolicyId'))],
  ['IOperation', type(plain('Id', 'Method', 'Name', 'UrlTemplate'))],
  [
    'IProduct',
    type({ ...plain('ApprovalRequired', 'Apis', 'Groups', 'Id', 'Name', 'State', 'SubscriptionLimit', 'SubscriptionRequired'), Workspace: 'IWorkspace' }),
  ],
  [
    'IRequest',
    type({
      ...plain('Certificate', 'IpAddress', 'Method'),
      Body: 'IMessageBody',
      Headers: 'IReadOnlyDictionary',
      MatchedParameters: 'IReadOnlyMap',
      OriginalUrl: 'IUrl',
      Url: 'IUrl',
      PrivateEndpointConnection: 'IPrivateEndpointConnection',
    }),
  ],
  ['IResponse', type({ ...plain('StatusCode', 'StatusReason'), Body: 'IMessageBody', Headers: 'IReadOnlyDictionary' })],
  ['ISubscription', type(plain('CreatedDate', 'EndDate', 'Id', 'Key', 'Name', 'PrimaryKey', 'SecondaryKey', 'StartDate'))],
  ['IUser', type(plain('Email', 'FirstName', 'Groups', 'Id', 'Identities', 'LastName', 'Note', 'RegistrationDate'))],
  ['IUrl', type({ ...plain('Host', 'Path', 'Port', 'QueryString', 'Scheme'), Query: 'IReadOnlyDictionary' })],
  ['IMessageBody', type({}, ['As', 'AsFormUrlEncodedContent'])],
  ['IPrivateEndpointConnection', type(plain('Name', 'GroupId', 'MemberName'))],
  ['ISubscriptionKeyParameterNames', type(plain('Header', 'Query'))],
  ['IWorkspace', type(plain('Id', 'Name'))],
  ['IReadOnlyDictionary', DICTIONARY],
  ['IReadOnlyMap', DICTIONARY],
]);

/** Methods every .NET value has. */
const OBJECT_METHODS = ['ToString', 'Equals', 'GetHashCode', 'GetType'];

function label(kind: string): string {
  return kind === 'IReadOnlyMap' || kind === 'IReadOnlyDictionary' ? 'IReadOnlyDictionary' : kind;
}

function props(kind: string): string[] {
  return [...Object.keys(TYPES.get(kind)?.props ?? {}), ...(typeByKind(kind)?.props.keys() ?? [])];
}

const methodSets = new Map<string, ReadonlySet<string>>();

/** Every method callable on `kind`, built once per kind (the run-time tables are complete at import). */
function methods(kind: string): ReadonlySet<string> {
  let set = methodSets.get(kind);
  if (set === undefined) {
    const t = TYPES.get(kind);
    set = new Set([...(t?.methods ?? []), ...(typeByKind(kind)?.methods.keys() ?? []), ...OBJECT_METHODS, ...(t?.enumerable === true ? LINQ.keys() : [])]);
    methodSets.set(kind, set);
  }
  return set;
}

function unknownMember(kind: string, name: string, off: number): never {
  throw new SyntaxFault(`'${label(kind)}' does not contain a definition for '${name}'${didYouMean(name, [...props(kind), ...methods(kind)], (c) => `'${c}'`)}`, off);
}

/** The context type of `e` (checking each member on the way), or null when `e` is not a context view. */
function typeOf(e: Expr): string | null {
  // Only names, member accesses and calls carry a context type; every other node (and any kind the
  // language gains later) yields a plain value.
  if (e.k === 'name') return e.name === 'context' ? 'IProxyRequestContext' : null;
  if (e.k === 'chain') return typeOf(e.e);
  if (e.k === 'member') {
    const kind = typeOf(e.target);
    if (kind === null) return null;
    const own = TYPES.get(kind)?.props;
    if (own !== undefined && Object.hasOwn(own, e.name)) return own[e.name] ?? null;
    if (typeByKind(kind)?.props.has(e.name) === true) return null;
    return unknownMember(kind, e.name, e.off);
  }
  if (e.k === 'call' && e.target !== null) {
    const kind = typeOf(e.target);
    if (kind !== null && !methods(kind).has(e.name)) unknownMember(kind, e.name, e.off);
  }
  return null;
}

/**
 * Checks every `context.…` member access in a parsed expression or block.
 * @throws SyntaxFault at the first unknown member, with the closest known one.
 */
export function checkContextMembers(root: Expr | Stmt): void {
  // Walks any node shape (statements and expressions alike), so new node kinds need no change here.
  const visit = (node: unknown, depth: number): void => {
    if (typeof node !== 'object' || node === null || depth > 500) return;
    if (Array.isArray(node)) {
      for (const n of node) visit(n, depth + 1);
      return;
    }
    const k = (node as { k?: unknown }).k;
    if (k === 'member' || k === 'call') typeOf(node as Expr);
    for (const v of Object.values(node)) if (typeof v === 'object') visit(v, depth + 1);
  };
  visit(root, 0);
}
