/**
 * A precise response-headers timeout. undici's `headersTimeout` runs on its coarse "fast timers"
 * (one tick every 499 ms, and a timer counts from the tick before it was set), so it can fire up to
 * half a second early: a 1 s `forward-request timeout` could answer 504 after 0.5 s. For short
 * timeouts, where that error is more than 5 %, a native timer aborts the request instead; longer
 * ones keep undici's (cheaper: no timer or signal per request).
 * @module
 */

/** Below this, undici's ±0.5 s is more than 5 %: use a native timer. */
const PRECISE_BELOW_MS = 10_000;

/** What undici rejects with when the deadline aborts it; `backendError` maps the code to a 504. */
class HeadersDeadlineError extends Error {
  readonly code = 'UND_ERR_HEADERS_TIMEOUT';
  constructor(ms: number) {
    super(`no response headers within ${ms} ms`);
    this.name = 'HeadersTimeoutError';
  }
}

export interface HeadersDeadline {
  /** The signal to give undici: the client's, or one that also aborts at the deadline. */
  readonly signal: AbortSignal;
  /** undici's own headersTimeout (a backstop, one second later, when the deadline is ours). */
  readonly undiciTimeoutMs: number;
  /** Call when the headers arrived (or the request failed): stops the timer. */
  clear(): void;
}

function noop(): void {}

export function headersDeadline(client: AbortSignal, ms: number): HeadersDeadline {
  if (ms >= PRECISE_BELOW_MS) return { signal: client, undiciTimeoutMs: ms, clear: noop };
  const ac = new AbortController();
  // The client leaving still aborts the request and, after the headers, its body.
  if (client.aborted) ac.abort(client.reason);
  else client.addEventListener('abort', () => ac.abort(client.reason), { once: true });
  const timer = setTimeout(() => ac.abort(new HeadersDeadlineError(ms)), ms);
  return { signal: ac.signal, undiciTimeoutMs: ms + 1000, clear: () => clearTimeout(timer) };
}
