/**
 * The usage record of a request once it is over (docs/metering.md has its fields): what the
 * ledger stores, subscribers receive and the debug log prints. Built by the request handler only
 * when a consumer takes it.
 * @module
 */
import type { RequestContext } from '../core/context.ts';
import type { Usage } from '../core/usage.ts';
import { isoNow } from '../util/iso-time.ts';

/** The request's usage record (docs/metering.md), once it is over. */
export function usageRecord(ctx: RequestContext, status: number, end: number): Usage {
  const tokens = ctx.tokens;
  return {
    requestId: ctx.requestId,
    clientRequestId: ctx.clientRequestId,
    timestamp: isoNow(),
    promptTokens: tokens?.promptTokens ?? 0,
    completionTokens: tokens?.completionTokens ?? 0,
    totalTokens: tokens?.totalTokens ?? 0,
    cachedTokens: tokens?.cachedTokens ?? 0,
    reasoningTokens: tokens?.reasoningTokens ?? 0,
    source: tokens === null ? 'none' : ctx.tokenSource,
    model: ctx.responseModel ?? ctx.deployment,
    deployment: ctx.deployment,
    backend: ctx.timings.upstreamStart === null ? null : (ctx.attempt?.backend.id ?? ctx.backendId),
    subscription: ctx.subscription?.id ?? null,
    product: ctx.productId,
    api: ctx.api?.id ?? null,
    operation: ctx.operation?.id ?? null,
    status,
    streamed: ctx.streaming,
    latencyMs: end - ctx.timings.start,
    timeToFirstByteMs: ctx.timings.firstByte === null ? null : ctx.timings.firstByte - ctx.timings.start,
    errorCode: ctx.lastError?.code ?? null,
    cache: ctx.cache?.result ?? null,
    cacheScore: ctx.cache?.score ?? null,
    embeddingTokens: ctx.cache?.embeddingTokens ?? 0,
  };
}
