/**
 * `forward-request`: sends the request to the selected backend (or `set-backend-service base-url`)
 * and puts its response on the context. Streams (SSE, or bodies too large to hold) stay streams;
 * a JSON answer of a metered operation is read (bounded) so usage is known before outbound
 * policies run, as in APIM, where outbound policies see `context.Response`.
 * @module
 */
import { PassThrough, type Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Policy } from '../../core/pipeline.ts';
import type { RequestContext } from '../../core/context.ts';
import { GatewayError } from '../../core/errors.ts';
import type { Backend } from '../../upstream/backend.ts';
import { clientResponseHeaders, upstreamRequestHeaders } from '../../upstream/headers.ts';
import { backendError } from '../../upstream/errors.ts';
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

export interface ForwardRequestDeps {
  readonly backends: ReadonlyMap<string, Backend>;
  /** Used for `base-url` targets, which are not configured backends. */
  readonly urlDispatcher: Dispatcher;
  /** Largest non-streamed response read into memory. */
  readonly maxResponseBytes: number;
  readonly now: () => number;
}

const NO_CREDENTIALS: Readonly<Record<string, string>> = Object.freeze({});
const DEFAULT_TIMEOUTS = { responseHeadersMs: 300_000, idleStreamMs: 300_000 };

/**
 * @example
 * const policy = forwardRequest({}, { backends, urlDispatcher, maxResponseBytes: 32 << 20, now: performance.now.bind(performance) });
 */
export function forwardRequest(opts: ForwardRequestOptions, deps: ForwardRequestDeps): Policy {
  if (opts.timeoutMs !== undefined && (!Number.isInteger(opts.timeoutMs) || opts.timeoutMs <= 0)) {
    throw new TypeError('forward-request: timeoutMs must be a positive integer');
  }
  const bufferResponse = opts.bufferResponse ?? true;
  return {
    name: 'forward-request',
    run: async function forwardRequestPolicy(ctx: RequestContext): Promise<void> {
      const target = resolveTarget(ctx, deps);
      const req = ctx.request;
      // A retry forwards again: the previous attempt's answer is dropped (and its connection freed).
      if (ctx.response?.body.kind === 'stream') ctx.response.body.stream.destroy();
      ctx.response = null;
      ctx.timings.upstreamStart = deps.now();
      let res;
      try {
        res = await target.dispatcher.request({
          origin: target.origin,
          path: target.basePath + req.suffix + req.query,
          method: req.method,
          headers: upstreamRequestHeaders(req.headers, target.credentials, ctx.requestId),
          body: req.body,
          signal: ctx.signal,
          headersTimeout: opts.timeoutMs ?? target.timeouts.responseHeadersMs,
          bodyTimeout: target.timeouts.idleStreamMs,
        });
      } catch (err) {
        throw backendError(target.id, err, 'headers');
      }
      ctx.timings.upstreamHeaders = deps.now();
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
      const read = await readBounded(res.body, deps.maxResponseBytes, target.id);
      if (read.kind === 'overflow') {
        ctx.response = { status: res.statusCode, headers, body: { kind: 'stream', stream: read.stream, sse: false } };
        return;
      }
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

interface Target {
  readonly id: string;
  readonly dispatcher: Dispatcher;
  readonly origin: string;
  readonly basePath: string;
  readonly credentials: Readonly<Record<string, string>>;
  readonly timeouts: { readonly responseHeadersMs: number; readonly idleStreamMs: number };
}

function resolveTarget(ctx: RequestContext, deps: ForwardRequestDeps): Target {
  if (ctx.backendUrl !== null) {
    let url: URL;
    try {
      url = new URL(ctx.backendUrl);
    } catch {
      throw new GatewayError('GW_ERR_BACKEND_NOT_CONFIGURED', 'set-backend-service produced an invalid base-url.');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new GatewayError('GW_ERR_BACKEND_NOT_CONFIGURED', 'set-backend-service base-url must be http or https.');
    return { id: url.host, dispatcher: deps.urlDispatcher, origin: url.origin, basePath: url.pathname.replace(/\/+$/, ''), credentials: NO_CREDENTIALS, timeouts: DEFAULT_TIMEOUTS };
  }
  const backend = ctx.backendId === null ? undefined : deps.backends.get(ctx.backendId);
  if (backend === undefined) throw new GatewayError('GW_ERR_BACKEND_NOT_CONFIGURED', 'No backend is configured for this API.');
  return { id: backend.id, dispatcher: backend.pool, origin: backend.url.origin, basePath: backend.basePath, credentials: backend.credentialHeaders, timeouts: backend.timeouts };
}

type ReadResult = { kind: 'full'; data: Buffer } | { kind: 'overflow'; stream: Readable };

/**
 * Reads a body up to `limit` bytes; past that, hands back a stream of what was read plus the rest.
 * Event listeners rather than an async iterator: one promise per body instead of one per chunk,
 * which is measurable at concurrency 1 (see docs/performance.md).
 */
export function readBounded(body: Readable, limit: number, backendId: string): Promise<ReadResult> {
  return new Promise<ReadResult>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size <= limit) return;
      cleanup();
      body.pause();
      const rest = new PassThrough();
      for (const c of chunks) rest.write(c);
      body.pipe(rest);
      body.on('error', (err) => rest.destroy(err));
      resolve({ kind: 'overflow', stream: rest });
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ kind: 'full', data: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size) });
    };
    const onError = (err: unknown): void => {
      cleanup();
      reject(backendError(backendId, err, 'body'));
    };
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
  });
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
      { backends: s.backends, urlDispatcher: s.urlDispatcher, maxResponseBytes: s.maxResponseBytes, now: s.now },
    );
  },
};

