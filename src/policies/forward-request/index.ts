/**
 * `forward-request`: sends the request to the selected backend (or `set-backend-service base-url`)
 * and puts its response on the context. Streams (SSE, or bodies too large to hold) stay streams;
 * a JSON answer of a metered operation is read (bounded) so usage is known before outbound
 * policies run, as in APIM, where outbound policies see `context.Response`.
 * @module
 */
import type { Policy } from '../../core/pipeline.ts';
import type { RequestContext } from '../../core/context.ts';
import { GatewayError } from '../../core/errors.ts';
import { clientResponseHeaders, upstreamRequestHeaders } from '../../upstream/headers.ts';
import { backendError, isAbort, reasonOf } from '../../upstream/errors.ts';
import { isFailureStatus } from '../../upstream/health.ts';
import { readBounded } from '../../upstream/read-bounded.ts';
import { headersDeadline } from '../../upstream/headers-deadline.ts';
import { avoidNext, resolveTarget, type TargetDeps } from './target.ts';
import { extractJsonUsage } from '../../providers/openai/usage-json.ts';
import type { PolicyDefinition } from '../../policy-docs/compile.ts';

export interface ForwardRequestOptions {
  /** Overrides the backend's response-headers timeout (APIM `timeout`, converted to ms). */
  readonly timeoutMs?: number;
  /** APIM `buffer-response` (default true): false passes every answer through as a stream. */
  readonly bufferResponse?: boolean;
  /** APIM `fail-on-error-status-code`: a 4xx/5xx answer goes to on-error. */
  readonly failOnErrorStatusCode?: boolean;
}

export interface ForwardRequestDeps extends TargetDeps {
  /** Largest non-streamed response read into memory. */
  readonly maxResponseBytes: number;
  readonly now: () => number;
}

/**
 * @example
 * const policy = forwardRequest({}, { backends, urlDispatcher, clock: Date.now, maxResponseBytes: 32 << 20, now: performance.now.bind(performance) });
 */
export function forwardRequest(opts: ForwardRequestOptions, deps: ForwardRequestDeps): Policy {
  if (opts.timeoutMs !== undefined && (!Number.isInteger(opts.timeoutMs) || opts.timeoutMs <= 0)) {
    throw new TypeError('forward-request: timeoutMs must be a positive integer');
  }
  const bufferResponse = opts.bufferResponse ?? true;
  return {
    name: 'forward-request',
    run: async function forwardRequestPolicy(ctx: RequestContext): Promise<void> {
      // A retry forwards again: the previous attempt's answer is dropped (and its connection freed).
      // Its status was not a failure (or it is settled already), so it counts as a success.
      ctx.attempt?.succeeded();
      ctx.attempt = null;
      if (ctx.response?.body.kind === 'stream') ctx.response.body.stream.destroy();
      ctx.response = null;
      const target = resolveTarget(ctx, deps);
      const attempt = target.attempt;
      // Stays on the context after the answer: a streamed answer settles when the stream ends,
      // and the usage record names the member that served the request.
      ctx.attempt = attempt;
      const req = ctx.request;
      ctx.timings.upstreamStart = deps.now();
      const end = attempt === null ? null : attempt.backend.begin();
      const deadline = headersDeadline(ctx.signal, opts.timeoutMs ?? target.timeouts.responseHeadersMs);
      let res;
      try {
        res = await target.dispatcher.request({
          origin: target.origin,
          path: target.basePath + req.suffix + req.query,
          method: req.method,
          headers: upstreamRequestHeaders(req.headers, target.credentials, ctx.requestId),
          body: req.body,
          signal: deadline.signal,
          headersTimeout: deadline.undiciTimeoutMs,
          bodyTimeout: target.timeouts.idleStreamMs,
        });
      } catch (err) {
        deadline.clear();
        end?.();
        if (ctx.signal.aborted || isAbort(err)) {
          attempt?.cancelled();
          throw backendError(target.id, err, 'headers');
        }
        const e = backendError(target.id, err, 'headers');
        attempt?.failed(reasonOf(e.code));
        avoidNext(ctx, attempt);
        throw e;
      }
      deadline.clear();
      ctx.timings.upstreamHeaders = deps.now();
      if (end !== null) res.body.once('close', end);
      if (attempt !== null) {
        attempt.answered(res.statusCode, res.headers);
        if (isFailureStatus(res.statusCode)) avoidNext(ctx, attempt);
      }
      const headers = clientResponseHeaders(res.headers);
      if (opts.failOnErrorStatusCode === true && res.statusCode >= 400) {
        // Drain and drop the error body; errors while doing so do not matter any more.
        res.body.on('error', () => undefined);
        res.body.resume();
        throw new GatewayError('GW_ERR_BACKEND_ERROR_STATUS', `Backend "${target.id}" answered ${res.statusCode}.`);
      }
      const contentType = String(res.headers['content-type'] ?? '');
      const sse = contentType.startsWith('text/event-stream');
      const meter = ctx.metering !== null && ctx.metering.usage !== 'none';
      // Bytes passed through unchanged keep the backend's length; SSE may lose the usage chunk.
      const length = res.headers['content-length'];
      if (!sse && length !== undefined) headers['content-length'] = String(length);
      if (sse || !meter || !bufferResponse || !contentType.includes('json')) {
        ctx.response = { status: res.statusCode, headers, body: { kind: 'stream', stream: res.body, sse } };
        return;
      }
      let read;
      try {
        read = await readBounded(res.body, deps.maxResponseBytes, target.id);
      } catch (err) {
        if (ctx.signal.aborted) attempt?.cancelled();
        else attempt?.failed('stream');
        throw err;
      }
      if (read.kind === 'overflow') {
        ctx.response = { status: res.statusCode, headers, body: { kind: 'stream', stream: read.stream, sse: false } };
        return;
      }
      attempt?.succeeded();
      ctx.timings.firstByte ??= ctx.timings.upstreamHeaders;
      const usage = extractJsonUsage(read.data);
      if (usage.tokens !== undefined) {
        ctx.tokens = usage.tokens;
        ctx.tokenSource = 'backend';
      }
      if (usage.model !== undefined) ctx.responseModel = usage.model;
      ctx.response = { status: res.statusCode, headers, body: { kind: 'buffer', data: read.data } };
    },
  };
}

/** `<forward-request timeout="120" buffer-request-body="true" buffer-response="false" fail-on-error-status-code="false" />` */
export const forwardRequestDefinition: PolicyDefinition = {
  names: ['forward-request'],
  sections: ['backend'],
  compile(r, _scope, env) {
    r.children([]);
    r.noText();
    const timeout = r.literal('timeout');
    const seconds = timeout === undefined ? undefined : Number(timeout);
    if (seconds !== undefined && (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600)) {
      throw r.fail('timeout', 'must be whole seconds from 1 to 3600');
    }
    const flag = (name: string, fallback: boolean): boolean => {
      const v = r.literal(name);
      if (v === undefined) return fallback;
      if (v.trim() === 'true') return true;
      if (v.trim() === 'false') return false;
      throw r.fail(name, 'must be true or false');
    };
    flag('buffer-request-body', false); // request bodies are always held (bounded by gateway.maxBodyBytes)
    const bufferResponse = flag('buffer-response', true);
    const failOnErrorStatusCode = flag('fail-on-error-status-code', false);
    if (flag('follow-redirects', false)) throw r.fail('follow-redirects', 'true is not supported: redirects are passed to the client');
    const s = env.services;
    return forwardRequest(
      { ...(seconds !== undefined && { timeoutMs: seconds * 1000 }), bufferResponse, failOnErrorStatusCode },
      { backends: s.backends, urlDispatcher: s.urlDispatcher, clock: s.clock, maxResponseBytes: s.maxResponseBytes, now: s.now },
    );
  },
};

