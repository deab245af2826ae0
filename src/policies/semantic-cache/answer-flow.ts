/**
 * What the lookup and store policies share: the lookup's pending entry (stored by the store policy
 * once the answer is known to be complete), the hit/miss headers, and the hit's response in the
 * form the client asked for.
 * @module
 */
import { Readable } from 'node:stream';
import type { RequestContext } from '../../core/context.ts';
import type { PolicyServices } from '../../policy-docs/services.ts';
import { assembleStream, parseCompletion, refuseToStore, renderStream } from '../../cache/chat-answer.ts';
import { jsonModel } from '../../providers/openai/usage-json.ts';

/** Header names a client reads to tell a cached answer (docs/cache.md). */
export const CACHE_HEADER = 'x-tollgate-cache';
export const CACHE_SCORE_HEADER = 'x-tollgate-cache-score';

export function cacheHeaders(ctx: RequestContext, result: 'hit' | 'miss', score: number | null): void {
  const h = (ctx.extraResponseHeaders ??= {});
  h[CACHE_HEADER] = result;
  if (score !== null) h[CACHE_SCORE_HEADER] = score.toFixed(4);
}

/** The client asked for the usage chunk itself (the gateway's own request for it does not count). */
function clientWantsUsage(ctx: RequestContext): boolean {
  if (ctx.injectedStreamUsage) return false;
  const opts = ctx.request.json?.['stream_options'];
  return typeof opts === 'object' && opts !== null && (opts as Record<string, unknown>)['include_usage'] === true;
}

/** The cached chat answer as the client asked for it: JSON, or an SSE stream when it streams. */
export function hitResponse(body: Buffer, ctx: RequestContext): NonNullable<RequestContext['response']> {
  if (ctx.streaming) {
    const completion = parseCompletion(body) ?? {};
    if (typeof completion['model'] === 'string') ctx.responseModel = completion['model'];
    return {
      status: 200,
      headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' },
      body: { kind: 'buffer', data: renderStream(completion, clientWantsUsage(ctx)) },
    };
  }
  // A JSON hit goes out as stored: its model is read from the bytes, not from a parse of the
  // whole answer (which was 5 % of a hit's CPU).
  const model = jsonModel(body);
  if (model !== undefined) ctx.responseModel = model;
  return { status: 200, headers: { 'content-type': 'application/json' }, body: { kind: 'buffer', data: body } };
}

export interface StoreRule {
  readonly ttlSeconds: number;
  /** `cache-response="true"`: any 2xx answer; otherwise 200 only (APIM's default). */
  readonly anySuccess: boolean;
}

/**
 * Stores the current chat answer through `put` when it is complete: a held JSON answer at once,
 * a streamed one when the request is over and the stream ended cleanly with `[DONE]`. Never
 * stored: non-2xx answers, cut or aborted streams, `finish_reason` length or content_filter,
 * answers over the size cap. A failure here is logged, never the client's problem.
 */
export function storeAnswer(ctx: RequestContext, services: PolicyServices, rule: StoreRule, put: (completion: Buffer, expiresAt: number) => void): void {
  const response = ctx.response;
  if (response === null) return;
  const okStatus = (status: number): boolean => (rule.anySuccess ? status >= 200 && status < 300 : status === 200);
  if (!okStatus(response.status)) return;
  const { maxEntryBytes } = services.responseCaches.settings;
  const expiresAt = services.clock() + rule.ttlSeconds * 1000;
  const log = (err: unknown): void => services.logger.warn({ requestId: ctx.requestId, err: (err as Error).message }, 'semantic cache store failed; the answer was served');
  const body = response.body;
  if (body.kind === 'buffer') {
    if (body.data.length > maxEntryBytes) return;
    const completion = parseCompletion(body.data);
    if (completion === undefined || refuseToStore(completion) !== undefined) return;
    try {
      put(body.data, expiresAt);
    } catch (err) {
      log(err);
    }
    return;
  }
  if (body.kind !== 'stream' || !body.sse) return;
  const { stream, captured } = recordBounded(body.stream, maxEntryBytes);
  response.body = { kind: 'stream', stream, sse: true };
  ctx.finishers.push((done, status) => {
    // A client that left (499), a cut stream (lastError) or an oversized one: nothing is stored.
    const bytes = captured();
    if (bytes === undefined || done.lastError !== null || !okStatus(status)) return;
    try {
      const completion = assembleStream(bytes);
      if (completion === undefined || refuseToStore(completion) !== undefined) return;
      put(Buffer.from(JSON.stringify(completion)), expiresAt);
    } catch (err) {
      log(err);
    }
  });
}

/**
 * Passes a backend stream through unchanged while keeping a copy of up to `maxBytes` of it;
 * `captured()` gives the copy once the source ended completely within the cap, else undefined
 * (a failed source, a consumer that stopped early, or too many bytes). A consumer that stops
 * early destroys the source, releasing its connection as the writer's own destroy would.
 */
export function recordBounded(source: Readable, maxBytes: number): { readonly stream: Readable; readonly captured: () => Buffer | undefined } {
  const chunks: Buffer[] = [];
  let size = 0;
  let complete = false;
  async function* passThrough(): AsyncGenerator<Buffer> {
    let ended = false;
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        if (size <= maxBytes) {
          size += chunk.length;
          // Past the cap the copy is dropped at once: nothing oversized is held while it streams.
          if (size > maxBytes) chunks.length = 0;
          else chunks.push(chunk);
        }
        yield chunk;
      }
      ended = true;
    } finally {
      if (!ended) source.destroy();
      complete = ended;
    }
  }
  return {
    stream: Readable.from(passThrough(), { objectMode: false }),
    captured: () => (complete && size <= maxBytes ? Buffer.concat(chunks, size) : undefined),
  };
}
