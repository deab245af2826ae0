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
import { errorResponse } from '../core/error-response.ts';
import { INVALID_FIELD_VALUE, invalidHeaderValue } from '../core/header-values.ts';

export interface WriteOutcome {
  /** The client went away before the response was complete. */
  clientGone: boolean;
  /** The SSE tap, when one ran (for a local token count if usage never came). */
  tap: SseUsageTap | null;
  /** The backend failed while its body was being passed through (cut, stalled, ended early). */
  streamError?: GatewayError;
}

/**
 * Held bodies are written synchronously (a promise only for a stream: one promise and a microtask
 * turn fewer for most answers).
 * @param maxStreamMs longest a streamed body may take to pass through (gateway.maxStreamDurationMs):
 * a backend that trickles forever, or a client that reads 1 byte a second, does not hold a stream,
 * its upstream connection and its buffers open forever.
 */
export function writeResponse(ctx: RequestContext, res: ServerResponse, closeConnection: boolean, now: () => number, maxStreamMs = DEFAULT_MAX_STREAM_MS): WriteOutcome | Promise<WriteOutcome> {
  const response = ctx.response;
  if (response === null) throw new Error('writeResponse called without a response');
  const headers = response.headers;
  for (const hook of ctx.beforeRespond) hook(ctx);
  if (ctx.extraResponseHeaders !== null) Object.assign(headers, ctx.extraResponseHeaders);
  headers['x-request-id'] = ctx.requestId;
  if (ctx.clientRequestId !== null) headers['x-client-request-id'] = ctx.clientRequestId;
  // Answered before the body was read (401, 413, a GET with a body): close the connection rather
  // than let node:http read and discard the rest of the body to keep the connection alive.
  if (closeConnection || !res.req.complete) headers['connection'] = 'close';
  const body = response.body;
  if (res.destroyed) {
    if (body.kind === 'stream') body.stream.destroy();
    return { clientGone: true, tap: null };
  }
  if (body.kind === 'stream' && body.sse) delete headers['content-length'];
  else if (body.kind !== 'stream') headers['content-length'] = String(body.kind === 'buffer' ? body.data.length : 0);
  const refused = writeHead(res, response.status, headers);
  if (refused !== undefined) return writeResponse(replaceWithError(ctx, refused), res, closeConnection, now, maxStreamMs);
  switch (body.kind) {
    case 'empty':
      res.end();
      return { clientGone: false, tap: null };
    case 'buffer':
      ctx.responseBytes = body.data.length;
      writeHeld(res, body.data);
      return { clientGone: false, tap: null };
    case 'stream':
      return pipeStream(ctx, res, body.stream, body.sse, now, maxStreamMs);
  }
}

/**
 * node:http sends a Buffer body after its header string as two chunks through a corked socket
 * (one `writev`), but a latin1 string body joined with the header as one string (one `write`).
 * A latin1 round trip is byte-exact, and for a small body the copy costs less than the writev path
 * (a bare node:http server answering ~600 bytes: 0.88× CPU per request in 16 alternating slices).
 * Large bodies stay Buffers: copying them into the heap would cost more than it saves.
 */
function writeHeld(res: ServerResponse, data: Buffer): void {
  if (data.length <= ONE_WRITE_MAX_BYTES) res.end(data.toString('latin1'), 'latin1');
  else res.end(data);
}

const ONE_WRITE_MAX_BYTES = 16_384;

/** The schema default (gateway.maxStreamDurationMs), for callers that pass none. */
const DEFAULT_MAX_STREAM_MS = 1_800_000;

/**
 * Writes the status line and headers. node:http throws (and writes nothing) on a header it cannot
 * write; before, that reset the client's connection with no answer and no usage record. Policies
 * check the values they set, so this is the backstop: the request is answered with the error.
 */
function writeHead(res: ServerResponse, status: number, headers: Record<string, string | string[]>): GatewayError | undefined {
  try {
    res.writeHead(status, headers);
    return undefined;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code !== 'ERR_INVALID_CHAR' && code !== 'ERR_INVALID_HTTP_TOKEN' && code !== 'ERR_HTTP_INVALID_HEADER_VALUE') throw err;
    const name = Object.keys(headers).find((n) => !VALID_NAME.test(n) || [headers[n]].flat().some((v) => INVALID_FIELD_VALUE.test(String(v))));
    return invalidHeaderValue(name ?? 'unknown');
  }
}

const VALID_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

function replaceWithError(ctx: RequestContext, err: GatewayError): RequestContext {
  const body = ctx.response?.body;
  if (body?.kind === 'stream') body.stream.destroy();
  ctx.lastError = err;
  ctx.response = errorResponse(ctx, err);
  ctx.extraResponseHeaders = null;
  ctx.beforeRespond.length = 0;
  return ctx;
}

async function pipeStream(ctx: RequestContext, res: ServerResponse, stream: Readable, sse: boolean, now: () => number, maxStreamMs: number): Promise<WriteOutcome> {
  const response = ctx.response as NonNullable<RequestContext['response']>;
  const metered = sse && ctx.metering !== null && ctx.metering.usage !== 'none';
  const tap = metered ? new SseUsageTap({ stripUsageChunk: ctx.injectedStreamUsage }) : null;
  // SSE clients should see the status line at once, not with the first event, unless the first
  // event is already here: then the two go in one write (a separate one for the headers cost the
  // first byte ~50 µs of syscall on loopback).
  if (sse && stream.readableLength === 0) res.flushHeaders();
  const deadline = new StreamDeadline(stream, maxStreamMs);
  /** Passes one chunk on; a promise when the client's buffer is full (resolves once drained). */
  const send = (chunk: Buffer): Promise<void> | undefined => {
    ctx.timings.firstByte ??= now();
    const out = tap === null ? chunk : tap.push(chunk);
    if (out === undefined || out.length === 0) return undefined;
    if (res.destroyed) throw abortError();
    ctx.responseBytes += out.length;
    if (res.write(out)) return undefined;
    return drained(res, deadline).then(() => {
      if (deadline.expired) throw deadline.error;
    });
  };
  try {
    // What is buffered already (usually the first events, which came with the headers) goes out
    // before the async iterator is set up: that set-up cost ~40 µs in front of the first byte.
    const buffered = stream.readableLength > 0 ? (stream.read() as Buffer | null) : null;
    const wait = buffered === null ? undefined : send(buffered);
    if (wait !== undefined) await wait;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const full = send(chunk);
      if (full !== undefined) await full;
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
    if (deadline.expired) return endExpired(ctx, res, sse, tap, deadline.error);
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
  } finally {
    deadline.clear();
  }
}

/** Cuts a stream at gateway.maxStreamDurationMs; `wake` also ends a wait for the client to drain. */
class StreamDeadline {
  expired = false;
  readonly error: GatewayError;
  wake: (() => void) | null = null;
  readonly #timer: NodeJS.Timeout;

  constructor(stream: Readable, ms: number) {
    this.error = new GatewayError('GW_ERR_STREAM_DURATION_EXCEEDED', `The response stream ran longer than the gateway's limit of ${ms} ms and was ended.`);
    this.#timer = setTimeout(() => {
      this.expired = true;
      // Ends a wait for the backend's next chunk (the loop sees the error) or for the client.
      stream.destroy(this.error);
      this.wake?.();
    }, ms);
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}

/**
 * The limit is the gateway's, not a backend failure (no breaker count). SSE gets a terminal
 * `event: error` when the client can take it; a client that stopped reading (its buffers are full)
 * or a non-SSE body is cut.
 */
function endExpired(ctx: RequestContext, res: ServerResponse, sse: boolean, tap: SseUsageTap | null, err: GatewayError): WriteOutcome {
  ctx.lastError = err;
  ctx.attempt?.cancelled();
  if (sse && !res.destroyed && !res.writableNeedDrain) res.end(renderErrorEvent(err, ctx.requestId));
  else res.destroy();
  return { clientGone: false, tap, streamError: err };
}

function captureTapUsage(ctx: RequestContext, tap: SseUsageTap): void {
  if (tap.tokens !== undefined) {
    ctx.tokens = tap.tokens;
    ctx.tokenSource = 'backend';
  }
  if (tap.model !== undefined) ctx.responseModel = tap.model;
}

function drained(res: ServerResponse, deadline: StreamDeadline): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      deadline.wake = null;
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
    deadline.wake = done;
  });
}

function abortError(): Error {
  const err = new Error('client closed the connection');
  err.name = 'AbortError';
  return err;
}
