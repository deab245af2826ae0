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
import { backendError, isAbort, isUnsendable, reasonOf } from '../../upstream/errors.ts';
import { isFailureStatus } from '../../upstream/health.ts';
import { BodyPhaseError, exchange, type Answer } from '../../upstream/exchange.ts';
import { headersDeadline } from '../../upstream/headers-deadline.ts';
import { isForbiddenTarget } from '../../upstream/ssrf-guard.ts';
import { avoidNext, causeOf, resolveTarget, type Target, type TargetDeps } from './target.ts';
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
      const credentials = ctx.backendToken === null && target.bearerToken === null ? target.credentials : await credentialsFor(ctx, target);
      ctx.timings.upstreamStart = deps.now();
      const end = attempt === null ? null : attempt.backend.begin();
      const deadline = headersDeadline(ctx.signal, opts.timeoutMs ?? target.timeouts.responseHeadersMs);
      const meter = ctx.metering !== null && ctx.metering.usage !== 'none';
      let sse = false;
      let failStatus = false;
      let answer: Answer;
      try {
        answer = await exchange(
          target.dispatcher,
          {
            origin: target.origin,
            // A pass-through MCP API's suffix is "" (the backend's URL itself): never an empty path.
            path: (target.basePath + req.suffix || '/') + req.query,
            method: req.method,
            headers: upstreamRequestHeaders(ownAuthorizationDropped(ctx), credentials, ctx.requestId, req.method),
            body: req.body,
            headersTimeout: deadline.undiciTimeoutMs,
            bodyTimeout: target.timeouts.idleStreamMs,
          },
          deadline.signal,
          {
            decide(head) {
              deadline.clear();
              ctx.timings.upstreamHeaders = deps.now();
              if (attempt !== null) {
                attempt.answered(head.statusCode, head.headers);
                if (isFailureStatus(head.statusCode)) avoidNext(ctx, attempt);
              }
              if (opts.failOnErrorStatusCode === true && head.statusCode >= 400) {
                failStatus = true;
                return 'stream';
              }
              const contentType = String(head.headers['content-type'] ?? '');
              sse = contentType.startsWith('text/event-stream');
              // A metered JSON answer is held so usage is known before outbound policies run; any
              // answer but SSE is held when an outbound expression reads context.Response.Body.
              if (sse || !bufferResponse) return 'stream';
              return (meter && contentType.includes('json')) || ctx.holdResponseBody ? { hold: deps.maxResponseBytes } : 'stream';
            },
            settled: end ?? noop,
          },
          // The request's own signal (no precise deadline): the context cancels the exchange itself.
          deadline.signal === ctx.signal ? ctx : undefined,
        );
      } catch (err) {
        deadline.clear();
        if (err instanceof BodyPhaseError) {
          // The headers came, the held body did not complete.
          if (ctx.signal.aborted) attempt?.cancelled();
          else attempt?.failed('stream');
          throw backendError(target.id, causeOf(target, err.cause), 'body');
        }
        if (ctx.signal.aborted || isAbort(err)) {
          attempt?.cancelled();
          throw backendError(target.id, causeOf(target, err), 'headers');
        }
        if (isForbiddenTarget(err)) {
          throw new GatewayError('GW_ERR_BACKEND_FORBIDDEN_TARGET', 'set-backend-service base-url: the target resolves only to internal addresses and outbound.allowPrivateNetworks is off.');
        }
        if (isUnsendable(err)) {
          // The request never left: a policy's value, not the backend, is at fault (no breaker count).
          attempt?.cancelled();
          throw new GatewayError('GW_ERR_POLICY_FAILED', 'The request cannot be sent: the policies produced a header value or URL that HTTP cannot carry.', { cause: err });
        }
        const e = backendError(target.id, causeOf(target, err), 'headers');
        attempt?.failed(reasonOf(e.code));
        avoidNext(ctx, attempt);
        throw e;
      }
      const headers = clientResponseHeaders(answer.headers);
      if (failStatus && answer.kind === 'stream') {
        // Drain and drop the error body; errors while doing so do not matter any more.
        answer.body.on('error', noop);
        answer.body.resume();
        throw new GatewayError('GW_ERR_BACKEND_ERROR_STATUS', `Backend "${target.id}" answered ${answer.statusCode}.`);
      }
      // Bytes passed through unchanged keep the backend's length; SSE may lose the usage chunk.
      const length = answer.headers['content-length'];
      if (!sse && length !== undefined) headers['content-length'] = String(length);
      if (answer.kind === 'stream') {
        ctx.response = { status: answer.statusCode, headers, body: { kind: 'stream', stream: answer.body, sse } };
        return;
      }
      attempt?.succeeded();
      ctx.timings.firstByte ??= ctx.timings.upstreamHeaders;
      if (meter) {
        const usage = extractJsonUsage(answer.data);
        if (usage.tokens !== undefined) {
          ctx.tokens = usage.tokens;
          ctx.tokenSource = 'backend';
        }
        if (usage.model !== undefined) ctx.responseModel = usage.model;
      }
      ctx.response = { status: answer.statusCode, headers, body: { kind: 'buffer', data: answer.data } };
    },
  };
}

function noop(): void {}

/** The request's headers without the client's own Authorization (a policy may have replaced it: then it goes). */
function ownAuthorizationDropped(ctx: RequestContext): RequestContext['request']['headers'] {
  const headers = ctx.request.headers;
  if (ctx.clientAuthorization === null || headers.authorization !== ctx.clientAuthorization) return headers;
  const { authorization: _dropped, ...rest } = headers;
  return rest;
}

/**
 * The Authorization for this attempt: the token of `authentication-managed-identity` replaces the
 * backend's configured credentials; a backend with `managedIdentity` / `oauth2` credentials gets
 * its (cached) token. A token that cannot be had fails the request before anything is sent.
 */
async function credentialsFor(ctx: RequestContext, target: Target): Promise<Readonly<Record<string, string>>> {
  if (ctx.backendToken !== null) return { authorization: `Bearer ${ctx.backendToken}` };
  if (target.bearerToken === null) return target.credentials;
  try {
    return { ...target.credentials, authorization: `Bearer ${await target.bearerToken()}` };
  } catch (err) {
    // Not the backend's fault: no breaker outcome.
    target.attempt?.cancelled();
    throw new GatewayError('GW_ERR_BACKEND_CREDENTIALS', `Could not obtain an access token for backend "${target.id}".`, { cause: err });
  }
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
      { backends: s.backends, urlDispatcher: s.urlDispatcher, outbound: s.outbound, clock: s.clock, maxResponseBytes: s.maxResponseBytes, now: s.now },
    );
  },
};

