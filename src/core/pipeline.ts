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
  /**
   * An outbound expression reads `context.Response.Body` (decided at load): forward-request holds
   * the backend's answer (bounded) instead of streaming it. SSE stays a stream.
   */
  readonly holdResponseBody?: boolean;
}

/**
 * Outbound policies whose output depends on the usage: on a streamed answer they wait for the
 * stream's end (docs/metering.md "Streams"), when the usage is final.
 */
const AT_STREAM_END = new Set(['log-to-eventhub', 'emit-metric']);
/** Policies that run in the stream-end pass too: they compute what the ones above read. */
const ALSO_AT_STREAM_END = new Set(['set-variable', 'choose']);

/**
 * Runs policies in order until one ends the request. Synchronous while the policies are: a
 * promise (and the microtask turns that come with it) only from the first policy that returns
 * one. Most sections of a plain API are empty or all synchronous, and three async frames per
 * request were measurable (docs/performance.md).
 */
export function runSection(policies: readonly Policy[], ctx: RequestContext): Promise<void> | undefined {
  return runFrom(policies, 0, ctx);
}

function runFrom(policies: readonly Policy[], from: number, ctx: RequestContext): Promise<void> | undefined {
  for (let i = from; i < policies.length; i++) {
    // A cache hit in inbound ends the inbound section (cacheHitStores is read only there: see executePipeline).
    if (ctx.ended || ctx.cacheHitInbound) return undefined;
    const policy = policies[i] as Policy;
    // One compare per policy when no streamed answer is in its outbound section.
    if (ctx.outboundPass !== 0 && !runsInPass(policy, ctx)) continue;
    const pending = policy.run(ctx);
    // The section's last policy (forward-request, alone in a plain API's backend section): its own
    // promise is the section's, without a .then, its closure and a microtask turn more.
    if (pending !== undefined) return i + 1 === policies.length ? pending : pending.then(() => runFrom(policies, i + 1, ctx));
  }
  return undefined;
}

function runsInPass(policy: Policy, ctx: RequestContext): boolean {
  if (ctx.outboundPass === 1) {
    if (!AT_STREAM_END.has(policy.name)) return true;
    ctx.streamEndSection = PENDING;
    return false;
  }
  return AT_STREAM_END.has(policy.name) || ALSO_AT_STREAM_END.has(policy.name);
}

/** Marks "a policy waits for the stream's end" until the section is known to have succeeded. */
const PENDING: readonly Policy[] = Object.freeze([]);

/** The response is an SSE stream whose usage the gateway reads at its end. */
function meteredStream(ctx: RequestContext): boolean {
  const body = ctx.response?.body;
  return body?.kind === 'stream' && body.sse && ctx.metering !== null && ctx.metering.usage !== 'none';
}

/**
 * The outbound section of a streamed answer, at the stream's end: only the policies that depend on
 * the usage (log-to-eventhub, emit-metric) and those that compute their inputs (set-variable,
 * choose, whose conditions are evaluated again) run, against the final usage; the response has been
 * sent, so nothing else runs. A failure is the caller's to log: the client has its answer.
 */
export async function runStreamEndPass(ctx: RequestContext): Promise<void> {
  const section = ctx.streamEndSection;
  ctx.streamEndSection = null;
  if (section === null || section === PENDING || ctx.ended) return;
  ctx.outboundPass = 2;
  try {
    await runSection(section, ctx);
  } finally {
    ctx.outboundPass = 0;
  }
}

/**
 * Executes the whole pipeline. Never throws: a failure lands in `ctx.lastError`, on-error runs,
 * and when on-error did not produce a response the caller renders `ctx.lastError`.
 */
export async function executePipeline(pipeline: Pipeline, ctx: RequestContext): Promise<void> {
  if (pipeline.holdResponseBody === true) ctx.holdResponseBody = true;
  try {
    let pending = runSection(pipeline.inbound, ctx);
    if (pending !== undefined) await pending;
    ctx.cacheHitInbound = false;
    // Every limit the inbound policies declared is checked and reserved here, in one store call.
    if (!ctx.ended && ctx.admission !== null) {
      pending = ctx.admission.flush(ctx);
      if (pending !== undefined) await pending;
    }
    // A cache hit answered in inbound: no backend (outbound still runs, from after its store).
    if (!ctx.ended && ctx.cacheHitStores === null) {
      pending = runSection(pipeline.backend, ctx);
      if (pending !== undefined) await pending;
      if (!ctx.ended && ctx.responseChecks !== null) for (const check of ctx.responseChecks) await check(ctx);
    }
    if (!ctx.ended) {
      const outbound = ctx.cacheHitStores === null ? pipeline.outbound : afterStore(pipeline.outbound, ctx.cacheHitStores);
      if (meteredStream(ctx)) {
        ctx.outboundPass = 1;
        try {
          await runSection(outbound, ctx);
        } finally {
          ctx.outboundPass = 0;
        }
        // Only a section that succeeded has a stream-end pass (on-error replaces the stream).
        if (ctx.streamEndSection === PENDING) ctx.streamEndSection = outbound;
      } else {
        pending = runSection(outbound, ctx);
        if (pending !== undefined) await pending;
      }
    }
  } catch (err) {
    ctx.streamEndSection = null;
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

/**
 * The outbound policies a cache hit runs: those after the first top-level store policy of the
 * lookup's kind (APIM's "continue from the step after the corresponding cache-store"); all of
 * them when the section has no such store at its top level (nothing marks where to resume).
 */
function afterStore(outbound: readonly Policy[], stores: ReadonlySet<string>): readonly Policy[] {
  const at = outbound.findIndex((p) => stores.has(p.name));
  return at < 0 ? outbound : outbound.slice(at + 1);
}

/** Drops a response that will not be sent, releasing its backend stream (and connection). */
export function discardResponse(ctx: RequestContext): void {
  const body = ctx.response?.body;
  if (body?.kind === 'stream') body.stream.destroy();
  ctx.response = null;
}
