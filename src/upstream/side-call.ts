/**
 * One JSON POST a policy makes to a configured backend on the side of a request (the semantic
 * cache's embeddings call, content safety's analyze and shield calls): a member is picked from
 * the backend's pool (circuit breakers respected), the backend's credentials are added (headers,
 * or a managed-identity / OAuth2 token), the call is bounded in time and answer size, and its
 * outcome is reported to the member's breaker. Any failure is a `SideCallError` whose message
 * names the backend and what went wrong, never the backend's URL or the text sent.
 * @module
 */
import type { Backend } from './backend.ts';
import type { BackendPool } from './pool.ts';
import { readCapped } from './read-bounded.ts';

/** A backend's credential headers (lower-case names) for one request. */
export type CredentialsFor = (backend: Backend, signal: AbortSignal) => Promise<Readonly<Record<string, string>>>;

/** The backend's configured `credentials`: headers, a bearer, or a managed-identity / OAuth2 token from the identity cache. */
export const configuredCredentials: CredentialsFor = async (backend) =>
  backend.bearerToken === null ? backend.credentialHeaders : { ...backend.credentialHeaders, authorization: `Bearer ${await backend.bearerToken()}` };

export class SideCallError extends Error {
  override readonly name = 'SideCallError';
}

export interface SideCallOptions {
  readonly timeoutMs: number;
  readonly credentials: CredentialsFor;
  /** Wall clock for the breaker. */
  readonly clock: () => number;
  /** The request's own signal: a client that leaves stops the call. */
  readonly signal: AbortSignal;
  /** Largest answer read. */
  readonly maxAnswerBytes: number;
  /** What the call is, for messages ("embeddings", "content safety"). */
  readonly what: string;
}

export interface SideAnswer {
  readonly status: number;
  readonly body: Buffer;
  readonly backendId: string;
}

/**
 * POSTs `body` to `pathFor(backend)` of a member of `pool`. A 2xx or 4xx answer is the backend's
 * answer (a success for its breaker); a 5xx or 429 counts as its failure (the breaker's status
 * rules decide through `answered`).
 */
export async function postJson(pool: BackendPool, pathFor: (backend: Backend) => string, body: string, opts: SideCallOptions): Promise<SideAnswer> {
  const picked = pool.select(opts.clock(), null, opts.clock);
  if (typeof picked === 'number') throw new SideCallError(`${opts.what} backend "${pool.id}" is unavailable (circuit open)`);
  const backend = picked.backend;
  // One controller for "the client left" and "too slow" (AbortSignal.any and AbortSignal.timeout
  // cost measurably more per call, and the timer here is cleared as soon as the answer is read).
  const controller = new AbortController();
  const signal = controller.signal;
  const timer = setTimeout(() => controller.abort(), opts.timeoutMs);
  const onClientAbort = (): void => controller.abort();
  opts.signal.addEventListener('abort', onClientAbort, { once: true });
  const end = backend.begin();
  try {
    const credentials = await opts.credentials(backend, signal);
    const res = await backend.pool.request({
      path: pathFor(backend),
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...credentials },
      body,
      signal,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
    picked.answered(res.statusCode, res.headers);
    const data = await readCapped(res.body, opts.maxAnswerBytes);
    if (data === undefined) throw new SideCallError(`${opts.what} answer larger than ${opts.maxAnswerBytes} bytes`);
    picked.succeeded();
    return { status: res.statusCode, body: data, backendId: backend.id };
  } catch (err) {
    if (opts.signal.aborted) picked.cancelled();
    else picked.failed(signal.aborted ? 'timeout' : 'connection');
    if (err instanceof SideCallError) throw err;
    throw new SideCallError(signal.aborted && !opts.signal.aborted ? `${opts.what} backend "${backend.id}" timed out after ${opts.timeoutMs} ms` : `${opts.what} call to "${backend.id}" failed: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
    opts.signal.removeEventListener('abort', onClientAbort);
    end();
  }
}
