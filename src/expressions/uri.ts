/**
 * `System.Uri`: `new Uri(s)`, `new Uri(baseUri, relative)`, `new Uri(s, UriKind.Relative)`,
 * `Uri.TryCreate`, and the parts policies read (Host, AbsolutePath, AbsoluteUri, Query, Scheme,
 * Port, Segments, PathAndQuery, ...). Parsed by the WHATWG URL parser (node's `URL`, no I/O);
 * the parts are shaped as .NET returns them (Query keeps its `?`, Port is the scheme's default
 * when none is written, Segments keep their trailing `/`).
 * @module
 */
import { str } from './args.ts';
import { CsError, argNull } from './errors.ts';
import { defineType } from './registry.ts';
import { CsEnum, Host, OutRef, defineEnum } from './values.ts';

export const uriKinds = defineEnum('System.UriKind', ['RelativeOrAbsolute', 'Absolute', 'Relative']);

const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443, ws: 80, wss: 443, ftp: 21 };

const formatError = (): CsError => new CsError('System.UriFormatException', 'Invalid URI: The format of the URI could not be determined.');

export class CsUri extends Host {
  /** Null for a relative URI. */
  readonly url: URL | null;
  readonly original: string;
  constructor(original: string, url: URL | null) {
    super();
    this.original = original;
    this.url = url;
  }
  get kind(): string {
    return 'Uri';
  }
  override get typeName(): string {
    return 'System.Uri';
  }
  override toCs(): string {
    if (this.url === null) return this.original;
    try {
      return decodeURI(this.url.href);
    } catch {
      return this.url.href;
    }
  }
  abs(): URL {
    if (this.url === null) throw new CsError('System.InvalidOperationException', 'This operation is not supported for a relative URI.');
    return this.url;
  }
}

function absolute(s: string): URL | null {
  // A scheme is required: .NET reads "example.com/x" as relative, not as a host.
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(s.trim())) return null;
  try {
    return new URL(s.trim());
  } catch {
    return null;
  }
}

/** `new Uri(...)`, as .NET resolves its overloads. */
export function makeUri(a: readonly unknown[]): CsUri {
  const [first, second] = a;
  if (first instanceof CsUri) {
    const rel = second instanceof CsUri ? second.original : str(a, 1, 'relativeUri');
    try {
      return new CsUri(rel, new URL(rel, first.abs()));
    } catch {
      throw formatError();
    }
  }
  const s = str(a, 0, 'uriString');
  const kind = second instanceof CsEnum ? second.name : 'Absolute';
  const url = absolute(s);
  if (kind === 'Relative') {
    if (url !== null) throw new CsError('System.UriFormatException', 'Invalid URI: A relative URI cannot be created because the \'uriString\' parameter represents an absolute URI.');
    return new CsUri(s, null);
  }
  if (url === null) {
    if (kind === 'RelativeOrAbsolute') return new CsUri(s, null);
    throw formatError();
  }
  return new CsUri(s, url);
}

/** `Uri.TryCreate(s, UriKind, out Uri u)` and `Uri.TryCreate(baseUri, relative, out Uri u)`. */
export function tryCreateUri(a: readonly unknown[]): boolean {
  const target = a[2];
  if (!(target instanceof OutRef)) throw new CsError('Microsoft.CSharp.RuntimeBinder.RuntimeBinderException', "Argument 3 must be passed with the 'out' keyword");
  if (a[0] === null || a[0] === undefined) {
    target.set(null);
    return false;
  }
  try {
    target.set(makeUri([a[0], a[1]]));
    return true;
  } catch (err) {
    if (!(err instanceof CsError)) throw err;
    target.set(null);
    return false;
  }
}

function port(u: URL): number {
  if (u.port !== '') return Number(u.port);
  return DEFAULT_PORTS[u.protocol.slice(0, -1)] ?? -1;
}

function segments(path: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < path.length; i++) {
    if (path[i] === '/') {
      out.push(path.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < path.length) out.push(path.slice(start));
  return out;
}

defineType<CsUri>('Uri', 'System.Uri', {
  props: {
    AbsoluteUri: (u) => u.abs().href,
    AbsolutePath: (u) => u.abs().pathname,
    LocalPath: (u) => decodeURIComponent(u.abs().pathname),
    PathAndQuery: (u) => u.abs().pathname + u.abs().search,
    Query: (u) => u.abs().search,
    Fragment: (u) => u.abs().hash,
    Scheme: (u) => u.abs().protocol.slice(0, -1),
    Host: (u) => u.abs().hostname,
    DnsSafeHost: (u) => u.abs().hostname.replace(/^\[|\]$/g, ''),
    IdnHost: (u) => u.abs().hostname,
    Port: (u) => port(u.abs()),
    IsDefaultPort: (u) => u.abs().port === '',
    Authority: (u) => (u.abs().port === '' ? u.abs().hostname : u.abs().host),
    UserInfo: (u) => (u.abs().username === '' ? '' : u.abs().username + (u.abs().password === '' ? '' : `:${u.abs().password}`)),
    Segments: (u) => segments(u.abs().pathname),
    IsAbsoluteUri: (u) => u.url !== null,
    OriginalString: (u) => u.original,
    IsLoopback: (u) => ['localhost', '127.0.0.1', '[::1]'].includes(u.abs().hostname),
  },
  methods: {
    GetLeftPart: [1, 1, (u, a) => {
      const part = a[0] instanceof CsEnum ? a[0].name : '';
      const url = u.abs();
      if (part === 'Scheme') return `${url.protocol}//`;
      if (part === 'Authority') return url.origin;
      if (part === 'Path') return url.origin + url.pathname;
      if (part === 'Query') return url.origin + url.pathname + url.search;
      throw argNull('part');
    }],
  },
});

export const uriPartials = defineEnum('System.UriPartial', ['Scheme', 'Authority', 'Path', 'Query']);
