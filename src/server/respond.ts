/**
 * Writes the final response to the client: held bytes in one write, streams chunk by chunk with
 * backpressure, SSE through the usage tap. After the first byte nothing can be retried, so a
 * backend failure mid-stream becomes a terminal `event: error` (never a clean end), and a
 * non-SSE body is cut (the client sees a truncated transfer, not a complete one).
 * @module
 */
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { RequestContext } from '../core/context.ts';
import { GatewayError, renderErrorEvent } from '../core/errors.ts';
import { SseUsageTap } from '../streaming/sse-usage-tap.ts';
import { backendError, isAbort } from '../upstream/errors.ts';

export interface WriteOutcome {
  /** The client went away before the response was complete. */
  clientGone: boolean;
  /** The SSE tap, when one ran (for a local token count if usage never came). */
  tap: SseUsageTap | null;
  /** The backend failed while its body was being passed through (cut, stalled, ended early). */
  streamError?: GatewayError;
}

export async function writeResponse(ctx: RequestContext, res: ServerResponse, closeConnection: boolean, now: () => number): Promise<WriteOutcome> {
  const response = ctx.response;
  if (response === null) throw new Error('writeResponse called without a response');
  const headers = response.headers;
  for (const hook of ctx.beforeRespond) hook(ctx);
  if (ctx.extraResponseHeaders !== null) Object.assign(headers, ctx.extraResponseHeaders);
  headers['x-request-id'] = ctx.requestId;
  if (ctx.clientRequestId !== null) headers['x-client-request-id'] = ctx.clientRequestId;
  if (closeConnection) headers['connection'] = 'close';
  const body = response.body;
  if (res.destroyed) {
    if (body.kind === 'stream') body.stream.destroy();
    return { clientGone: true, tap: null };
  }
  switch (body.kind) {
    case 'empty':
      headers['content-length'] = '0';
      res.writeHead(response.status, headers);
      res.end();
      return { clientGone: false, tap: null };
    case 'buffer':
      headers['content-length'] = String(body.data.length);
      res.writeHead(response.status, headers);
      ctx.responseBytes = body.data.length;
      res.end(body.data);
      return { clientGone: false, tap: null };
    case 'stream':
      return pipeStream(ctx, res, body.stream, body.sse, now);
  }
}

async function pipeStream(ctx: RequestContext, res: ServerResponse, stream: Readable, sse: boolean, now: () => number): Promise<WriteOutcome> {
  const response = ctx.response as NonNullable<RequestContext['response']>;
  const metered = sse && ctx.metering !== null && ctx.metering.usage !== 'none';
  const tap = metered ? new SseUsageTap({ stripUsageChunk: ctx.injectedStreamUsage }) : null;
  if (sse) delete response.headers['content-length'];
  res.writeHead(response.status, response.headers);
  // SSE clients should see the status line at once, not with the first event.
  if (sse) res.flushHeaders();
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      ctx.timings.firstByte ??= now();
      const out = tap === null ? chunk : tap.push(chunk);
      if (out === undefined || out.length === 0) continue;
      if (res.destroyed) throw abortError();
      ctx.responseBytes += out.length;
      if (!res.write(out)) await drained(res);
    }
    if (tap !== null) {
      const rest = tap.flush();
      if (rest !== undefined && !res.destroyed) res.write(rest);
      captureTapUsage(ctx, tap);
      if (ctx.metering?.sseEndsWithDone === true && !tap.sawDone && response.status < 400) {
        // The backend closed cleanly but early: the client must not mistake this for a complete answer.
        const err = new GatewayError('GW_ERR_BACKEND_STREAM_ABORTED', 'The backend ended the stream before it was complete.');
        ctx.lastError = err;
        if (!res.destroyed) res.end(renderErrorEvent(err, ctx.requestId));
        return { clientGone: false, tap, streamError: err };
      }
    }
    if (res.destroyed) return { clientGone: true, tap };
    res.end();
    return { clientGone: false, tap };
  } catch (err) {
    stream.destroy();
    if (tap !== null) captureTapUsage(ctx, tap);
    if (ctx.signal.aborted || res.destroyed || isAbort(err)) return { clientGone: true, tap };
    // The member that failed, not the pool it was picked from (ctx.backendId is the pool's id).
    const gwErr = backendError(ctx.attempt?.backend.id ?? ctx.backendId ?? 'unknown', err, 'body');
    ctx.lastError = gwErr;
    if (sse) {
      const rest = tap?.flush();
      if (rest !== undefined) res.write(rest);
      res.end(renderErrorEvent(gwErr, ctx.requestId));
    } else {
      res.destroy();
    }
    return { clientGone: false, tap, streamError: gwErr };
  }
}

function captureTapUsage(ctx: RequestContext, tap: SseUsageTap): void {
  if (tap.tokens !== undefined) {
    ctx.tokens = tap.tokens;
    ctx.tokenSource = 'backend';
  }
  if (tap.model !== undefined) ctx.responseModel = tap.model;
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function abortError(): Error {
  const err = new Error('client closed the connection');
  err.name = 'AbortError';
  return err;
}
