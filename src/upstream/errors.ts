/**
 * Maps failures talking to a backend onto gateway error codes: "could not reach it" is 502,
 * "it did not answer in time" is 504. The backend's own words (and its URL) never reach the
 * client; they stay in `cause` for the log.
 * @module
 */
import { GatewayError } from '../core/errors.ts';
import type { ErrorReason } from '../config/backend-schema.ts';

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

const TIMEOUT = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

function codeOf(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True for the abort the gateway itself caused because the client went away. */
export function isAbort(err: unknown): boolean {
  return (
    typeof err === 'object' &&
    err !== null &&
    ((err as { name?: unknown }).name === 'AbortError' || codeOf(err) === 'UND_ERR_ABORTED' || codeOf(err) === 'ABORT_ERR')
  );
}

/**
 * True when undici refused to send the request as the gateway built it (a header value or path a
 * policy produced that HTTP cannot carry). Nothing reached the backend: this is never its failure.
 */
export function isUnsendable(err: unknown): boolean {
  return codeOf(err) === 'UND_ERR_INVALID_ARG';
}

export function backendError(backendId: string, err: unknown, phase: 'connect' | 'headers' | 'body'): GatewayError {
  if (GatewayError.is(err)) return err;
  const code = codeOf(err);
  if (code !== undefined && TIMEOUT.has(code)) {
    const what = code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connecting to' : code === 'UND_ERR_BODY_TIMEOUT' ? 'waiting for data from' : 'waiting for a response from';
    return new GatewayError('GW_ERR_BACKEND_TIMEOUT', `Timed out ${what} backend "${backendId}".`, { cause: err });
  }
  if (code !== undefined && UNREACHABLE.has(code)) {
    const msg = phase === 'body' ? `Backend "${backendId}" closed the connection mid-response.` : `Backend "${backendId}" is unreachable.`;
    return new GatewayError(phase === 'body' ? 'GW_ERR_BACKEND_STREAM_ABORTED' : 'GW_ERR_BACKEND_UNREACHABLE', msg, { cause: err });
  }
  return new GatewayError('GW_ERR_BACKEND_BAD_RESPONSE', `Backend "${backendId}" failed (${code ?? 'error'}).`, { cause: err });
}

/** The circuit-breaker error reason of a backend failure this module mapped to a gateway error. */
export function reasonOf(code: string): ErrorReason {
  return code === 'GW_ERR_BACKEND_TIMEOUT' ? 'timeout' : code === 'GW_ERR_BACKEND_STREAM_ABORTED' || code === 'GW_ERR_RESPONSE_TOO_LARGE' ? 'stream' : 'connection';
}
