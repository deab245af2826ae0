/**
 * `forward-request`: sends the request to the selected backend and puts its response on the
 * context. Streams (SSE, or bodies too large to hold) stay streams; a normal JSON answer of an
 * AI operation is read (bounded) so usage is known before outbound policies run — as in APIM,
 * where outbound policies see `context.Response` after the backend answered.
 * @module
 */
import { PassThrough, type Readable } from 'node:stream';
import type { Policy } from '../../core/pipeline.ts';
import type { RequestContext } from '../../core/context.ts';
import { GatewayError } from '../../core/errors.ts';
import type { Backend } from '../../upstream/backend.ts';
import { clientResponseHeaders, upstreamRequestHeaders } from '../../upstream/headers.ts';
import { backendError } from '../../upstream/errors.ts';
import { extractJsonUsage } from '../../providers/openai/usage-json.ts';

export interface ForwardRequestOptions {
  /** Overrides the backend's response-headers timeout (APIM `timeout`, here in ms). */
  readonly timeoutMs?: number;
}

export interface ForwardRequestDeps {
  readonly backends: ReadonlyMap<string, Backend>;
  /** Largest non-streamed response read into memory. */
  readonly maxResponseBytes: number;
  readonly now: () => number;
}

/**
 * @example
 * const policy = forwardRequest({}, { backends, maxResponseBytes: 32 << 20, now: performance.now.bind(performance) });
 */
export function forwardRequest(opts: ForwardRequestOptions, deps: ForwardRequestDeps): Policy {
  if (opts.timeoutMs !== undefined && (!Number.isInteger(opts.timeoutMs) || opts.timeoutMs <= 0)) {
    throw new TypeError('forward-request: timeoutMs must be a positive integer');
  }
  return {
    name: 'forward-request',
    run: async function forwardRequestPolicy(ctx: RequestContext): Promise<void> {
      const backendId = ctx.backendId;
      const backend = backendId === null ? undefined : deps.backends.get(backendId);
      if (backend === undefined) {
        throw new GatewayError('GW_ERR_BACKEND_NOT_CONFIGURED', 'No backend is configured for this API.');
      }
      const req = ctx.request;
      ctx.timings.upstreamStart = deps.now();
      let res;
      try {
        res = await backend.pool.request({
          path: backend.basePath + req.suffix + req.query,
          method: req.method,
          headers: upstreamRequestHeaders(req.headers, backend.credentialHeaders, ctx.requestId),
          body: req.body,
          signal: ctx.signal,
          headersTimeout: opts.timeoutMs ?? backend.timeouts.responseHeadersMs,
          bodyTimeout: backend.timeouts.idleStreamMs,
        });
      } catch (err) {
        throw backendError(backend.id, err, 'headers');
      }
      ctx.timings.upstreamHeaders = deps.now();
      const headers = clientResponseHeaders(res.headers);
      const contentType = String(res.headers['content-type'] ?? '');
      const sse = contentType.startsWith('text/event-stream');
      const meter = ctx.metering !== null && ctx.metering.usage !== 'none';
      // Bytes passed through unchanged keep the backend's length; SSE may lose the usage chunk.
      const length = res.headers['content-length'];
      if (!sse && length !== undefined) headers['content-length'] = String(length);
      if (sse || !meter || !contentType.includes('json')) {
        ctx.response = { status: res.statusCode, headers, body: { kind: 'stream', stream: res.body, sse } };
        return;
      }
      const read = await readBounded(res.body, deps.maxResponseBytes, backend.id);
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

type ReadResult = { kind: 'full'; data: Buffer } | { kind: 'overflow'; stream: Readable };

/**
 * Reads a body up to `limit` bytes; past that, hands back a stream of what was read plus the rest.
 * Event listeners rather than an async iterator: one promise per body instead of one per chunk,
 * which is measurable at concurrency 1 (see docs/performance.md).
 */
function readBounded(body: Readable, limit: number, backendId: string): Promise<ReadResult> {
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
