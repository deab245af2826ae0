/**
 * APIM's policy pipeline: inbound → backend → outbound, and on-error when anything throws.
 * Sections are ordered lists of policies; container policies (choose, retry) run their children
 * with `runSection`. A policy that produces the final response sets `ctx.ended` and the rest of
 * the pipeline is skipped (APIM's return-response). See docs/lifecycle.md.
 * @module
 */
import type { RequestContext } from './context.ts';
import { toGatewayError } from './errors.ts';
import { errorResponse } from './error-response.ts';

export type PolicySection = 'inbound' | 'backend' | 'outbound' | 'on-error';

export interface Policy {
  /** Element name as written in a policy document, e.g. `set-header`. */
  readonly name: string;
  /** Sync policies return undefined; the runner awaits only real promises, keeping the fast path cheap. */
  run(ctx: RequestContext): void | Promise<void>;
}

export interface Pipeline {
  readonly inbound: readonly Policy[];
  readonly backend: readonly Policy[];
  readonly outbound: readonly Policy[];
  readonly onError: readonly Policy[];
}

/** Runs policies in order until one ends the request. */
export async function runSection(policies: readonly Policy[], ctx: RequestContext): Promise<void> {
  for (const policy of policies) {
    if (ctx.ended) return;
    const pending = policy.run(ctx);
    if (pending !== undefined) await pending;
  }
}

/**
 * Executes the whole pipeline. Never throws: a failure lands in `ctx.lastError`, on-error runs,
 * and when on-error did not produce a response the caller renders `ctx.lastError`.
 */
export async function executePipeline(pipeline: Pipeline, ctx: RequestContext): Promise<void> {
  try {
    await runSection(pipeline.inbound, ctx);
    // Every limit the inbound policies declared is checked and reserved here, in one store call.
    if (!ctx.ended && ctx.admission !== null) await ctx.admission.flush(ctx);
    if (!ctx.ended && !ctx.skipBackend) {
      await runSection(pipeline.backend, ctx);
      if (!ctx.ended && ctx.responseChecks !== null) for (const check of ctx.responseChecks) await check(ctx);
    }
    if (!ctx.ended) await runSection(pipeline.outbound, ctx);
  } catch (err) {
    ctx.lastError = toGatewayError(err);
    // on-error starts from the rendered error and may modify or replace it (APIM semantics);
    // a failure inside on-error itself is recorded and that error is rendered instead.
    ctx.ended = false;
    discardResponse(ctx);
    ctx.response = errorResponse(ctx, ctx.lastError);
    try {
      await runSection(pipeline.onError, ctx);
    } catch (inner) {
      ctx.lastError = toGatewayError(inner);
      discardResponse(ctx);
      ctx.response = errorResponse(ctx, ctx.lastError);
    }
  }
}

/** Drops a response that will not be sent, releasing its backend stream (and connection). */
export function discardResponse(ctx: RequestContext): void {
  const body = ctx.response?.body;
  if (body?.kind === 'stream') body.stream.destroy();
  ctx.response = null;
}
