/**
 * Local token counts for the rare response that carries no usage (a backend that ignores
 * `stream_options.include_usage`, a stream cut mid-way, a client that left early): the prompt is
 * counted from the request, the completion from the text the client was sent. Marked `estimated`.
 * @module
 */
import type { RequestContext } from '../core/context.ts';
import type { SseUsageTap } from '../streaming/sse-usage-tap.ts';

export interface TokenEstimator {
  prompt(body: Record<string, unknown>, operation: 'chat' | 'completions' | 'embeddings', model: string | undefined): number;
  text(text: string, model: string | undefined): number;
}

export function estimateTokens(ctx: RequestContext, tap: SseUsageTap | null, estimator: TokenEstimator): void {
  const usage = ctx.metering?.usage;
  const json = ctx.request.json;
  if (json === null || (usage !== 'chat' && usage !== 'completions' && usage !== 'embeddings')) return;
  const model = ctx.responseModel ?? ctx.deployment ?? undefined;
  const promptTokens = estimator.prompt(json, usage, model);
  const completionTokens = tap === null ? 0 : estimator.text(tap.collectedText(), model);
  ctx.tokens = { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens, cachedTokens: 0, reasoningTokens: 0 };
  ctx.tokenSource = 'estimated';
}
