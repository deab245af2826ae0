/**
 * Where one forward-request attempt goes: a `set-backend-service base-url` (no credentials, no
 * breaker), or a member chosen from the backend's pool (a single backend is a pool of one).
 * A pool whose every member's circuit is open answers 503 at once, with Retry-After, instead of
 * waiting on a backend known to be down.
 * @module
 */
import type { Dispatcher } from 'undici';
import type { RequestContext } from '../../core/context.ts';
import { GatewayError } from '../../core/errors.ts';
import type { Attempt, BackendPool } from '../../upstream/pool.ts';
import type { OutboundClient } from '../../upstream/outbound-client.ts';

export interface Target {
  readonly id: string;
  readonly dispatcher: Dispatcher;
  readonly origin: string;
  readonly basePath: string;
  readonly credentials: Readonly<Record<string, string>>;
  /** A backend whose credentials are a managed identity or OAuth2: its token, fetched per attempt. */
  readonly bearerToken: (() => Promise<string>) | null;
  readonly timeouts: { readonly responseHeadersMs: number; readonly idleStreamMs: number };
  /** Reports the outcome to the backend's health; null for base-url targets. */
  readonly attempt: Attempt | null;
}

/**
 * The cause a failed attempt's error keeps (it is logged). For a base-url target, the network
 * error's message names the host computed at run time (`getaddrinfo ENOTFOUND <host>`), which may
 * be derived from a secret: only its code is kept (docs/security.md).
 */
export function causeOf(target: Target, err: unknown): unknown {
  if (target.attempt !== null || typeof err !== 'object' || err === null || GatewayError.is(err)) return err;
  const code = (err as { code?: unknown }).code;
  const name = (err as { name?: unknown }).name;
  return Object.assign(new Error(`${typeof code === 'string' ? code : 'error'} (the run-time base-url is not logged)`), {
    ...(typeof code === 'string' && { code }),
    ...(typeof name === 'string' && { name }),
  });
}

export interface TargetDeps {
  readonly backends: ReadonlyMap<string, BackendPool>;
  readonly urlDispatcher: Dispatcher;
  /** The SSRF-guarded client, for a base-url computed at run time. */
  readonly outbound: OutboundClient;
  readonly clock: () => number;
}

const NO_CREDENTIALS: Readonly<Record<string, string>> = Object.freeze({});
const DEFAULT_TIMEOUTS = { responseHeadersMs: 300_000, idleStreamMs: 300_000 };

export function resolveTarget(ctx: RequestContext, deps: TargetDeps): Target {
  if (ctx.backendUrl !== null) {
    let url: URL;
    try {
      url = new URL(ctx.backendUrl);
    } catch {
      throw new GatewayError('GW_ERR_BACKEND_NOT_CONFIGURED', 'set-backend-service produced an invalid base-url.');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new GatewayError('GW_ERR_BACKEND_NOT_CONFIGURED', 'set-backend-service base-url must be http or https.');
    // A URL from an expression may carry a client's input: the guard judges it before any connection
    // (a literal address here, a host name's every address when the guarded client resolves it).
    if (ctx.backendUrlComputed) deps.outbound.check(url, 'set-backend-service base-url', 'GW_ERR_BACKEND_FORBIDDEN_TARGET');
    const dispatcher = ctx.backendUrlComputed ? deps.outbound.dispatcher : deps.urlDispatcher;
    // Named by where it came from, not by its host: a URL computed at run time is not quoted in
    // messages (it may be derived from a secret; docs/security.md).
    return { id: 'set-backend-service base-url', dispatcher, origin: url.origin, basePath: url.pathname.replace(/\/+$/, ''), credentials: NO_CREDENTIALS, bearerToken: null, timeouts: DEFAULT_TIMEOUTS, attempt: null };
  }
  const pool = ctx.backendId === null ? undefined : deps.backends.get(ctx.backendId);
  if (pool === undefined) throw new GatewayError('GW_ERR_BACKEND_NOT_CONFIGURED', 'No backend is configured for this API.');
  const picked = pool.select(deps.clock(), ctx.failedBackends, deps.clock);
  if (typeof picked === 'number') throw unavailable(pool, picked);
  const b = picked.backend;
  if (b.waiting >= b.maxPendingRequests) {
    // Our own queue is full: the backend did nothing wrong, so this is no breaker outcome, but a
    // retry should try another member.
    picked.cancelled();
    avoidNext(ctx, picked);
    throw new GatewayError('GW_ERR_BACKEND_OVERLOADED', `Too many requests are waiting for a connection to backend "${b.id}".`, { headers: { 'retry-after': '1' } });
  }
  return { id: b.id, dispatcher: b.pool, origin: b.url.origin, basePath: b.basePath, credentials: b.credentialHeaders, bearerToken: b.bearerToken, timeouts: b.timeouts, attempt: picked };
}

function unavailable(pool: BackendPool, waitMs: number): GatewayError {
  const message = pool.isPool
    ? `Backend pool "${pool.id}" is temporarily unavailable: the circuit breaker of every member is open.`
    : `Backend "${pool.id}" is temporarily unavailable: its circuit breaker is open.`;
  return new GatewayError('GW_ERR_BACKEND_UNAVAILABLE', message, { headers: { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) } });
}

/** Remembers that this request failed on the attempt's backend, so a retry prefers another member. */
export function avoidNext(ctx: RequestContext, attempt: Attempt | null): void {
  if (attempt === null) return;
  (ctx.failedBackends ??= new Set()).add(attempt.backend.id);
}
