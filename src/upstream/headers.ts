/**
 * Header hygiene at the proxy boundary (RFC 9110 §7.6.1): hop-by-hop headers, and any header the
 * `Connection` header names, stop here in both directions; the backend's credentials are added
 * last so neither a client nor a policy can override them.
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/**
 * Request headers the gateway owns or recomputes. The client's gateway credentials are removed
 * earlier, when the key is checked (so a policy may still set `api-key` or `Authorization` for
 * the backend).
 */
const REQUEST_DROP = new Set([...HOP_BY_HOP, 'host', 'content-length', 'expect']);

const RESPONSE_DROP = new Set([...HOP_BY_HOP, 'content-length', 'x-request-id', 'x-client-request-id']);

/**
 * Methods a backend may answer by echoing the request (TRACE, RFC 9110 §9.3.8) or that open a
 * tunnel (CONNECT): they never carry credentials, neither the backend's nor ones a policy set.
 */
const ECHOING_METHODS = new Set(['TRACE', 'CONNECT']);
const CREDENTIAL_HEADERS = new Set(['authorization', 'api-key', 'ocp-apim-subscription-key', 'cookie', 'x-api-key', 'x-functions-key']);

/** `Connection: close` names no header of its own but `close`; shared, never written to. */
const CLOSE_ONLY: ReadonlySet<string> = new Set(['close']);

function connectionListed(value: string | string[] | undefined): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  // The usual values, without a split, a Set and a lower-cased copy per message (every answer of
  // a Node backend says `Connection: keep-alive`): a hop-by-hop name is dropped anyway.
  if (typeof value === 'string') {
    if (HOP_BY_HOP.has(value)) return undefined;
    if (value === 'close') return CLOSE_ONLY;
  }
  const listed = new Set<string>();
  for (const part of (Array.isArray(value) ? value.join(',') : value).split(',')) {
    const name = part.trim().toLowerCase();
    if (name !== '') listed.add(name);
  }
  return listed.size > 0 ? listed : undefined;
}

export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  credentials: Readonly<Record<string, string>>,
  requestId: string,
  method: string,
): Record<string, string | string[]> {
  const listed = connectionListed(incoming.connection);
  const echoing = ECHOING_METHODS.has(method);
  const out: Record<string, string | string[]> = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || REQUEST_DROP.has(name) || listed?.has(name)) continue;
    if (echoing && (CREDENTIAL_HEADERS.has(name) || name in credentials)) continue;
    out[name] = value;
  }
  out['x-request-id'] = requestId;
  if (!echoing) for (const name in credentials) out[name] = credentials[name] as string;
  return out;
}

/**
 * Backend response headers to pass to the client. `content-length` is dropped here and set again
 * by the writer when the gateway knows the exact length it sends.
 */
export function clientResponseHeaders(incoming: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const listed = connectionListed(incoming['connection']);
  const out: Record<string, string | string[]> = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || RESPONSE_DROP.has(name) || listed?.has(name)) continue;
    out[name] = value;
  }
  return out;
}
