/**
 * What `rate-limit` and `rate-limit-by-key` share: calls per sliding `renewal-period` on one or
 * more counters, reserved before forwarding through the request's admission batch. With an
 * `increment-condition` (evaluated when the response is known, as APIM's example
 * `context.Response.StatusCode == 200` implies) a call that fails the condition is given back;
 * an `increment-count` expression is likewise evaluated when the response is known.
 * Over any counter: 429 `Rate limit is exceeded. Try again in N seconds.` with Retry-After.
 * @module
 */
import { GatewayError } from '../../core/errors.ts';
import type { RequestContext } from '../../core/context.ts';
import type { Policy } from '../../core/pipeline.ts';
import type { PolicyEnv } from '../../policy-docs/compile.ts';
import type { ElementReader } from '../../policy-docs/reader.ts';
import type { Dyn } from '../../policy-docs/values.ts';
import type { CounterState } from '../../state/limit-store.ts';
import { admissionOf } from '../../limits/admission.ts';
import { headerNameAttr, variableNameAttr } from '../../limits/attrs.ts';
import { incrementCount } from '../../limits/increment.ts';
import { retryAfterSeconds, setHeader, setVariable } from '../../limits/claim-output.ts';
import { slidingWindow } from '../../limits/windows.ts';

/** One counter of a rate limit, as it applies to a request. */
export interface CallLimit {
  /** The store key; it must carry the period (a sliding counter has one bucket size). */
  readonly key: string;
  readonly calls: number;
  /** Seconds. */
  readonly period: number;
}

/** `calls` and `renewal-period` as APIM bounds them (a sliding window of at most 300 s). */
export function readCallLimit(r: ElementReader): { calls: Dyn<number>; period: Dyn<number> } {
  const calls = r.int('calls', { min: 1, max: 1_000_000_000, required: true }) as Dyn<number>;
  const period = r.int('renewal-period', { min: 1, max: 300, required: true }) as Dyn<number>;
  return { calls, period };
}

/**
 * Reads the attributes every rate limit has besides its limits, and returns the policy that
 * claims `limitsOf(ctx)` (all or nothing, with the request's other limits).
 */
export function compileCallLimit(r: ElementReader, env: PolicyEnv, limitsOf: (ctx: RequestContext) => readonly CallLimit[]): Policy {
  r.noText();
  const condition = r.bool('increment-condition');
  const count = incrementCount(r.int('increment-count', { min: 1, max: 1_000_000, fallback: 1 }) as Dyn<number>);
  const out = {
    retryHeader: headerNameAttr(r, env, 'retry-after-header-name', 'Retry-After'),
    retryVar: variableNameAttr(r, 'retry-after-variable-name'),
    remainingHeader: headerNameAttr(r, env, 'remaining-calls-header-name'),
    remainingVar: variableNameAttr(r, 'remaining-calls-variable-name'),
    totalHeader: headerNameAttr(r, env, 'total-calls-header-name'),
  };
  const { limits, clock } = env.services;
  return {
    name: r.el.name,
    run(ctx) {
      if (ctx.preflight) return;
      const applied = limitsOf(ctx);
      const cost = count.reserve(ctx);
      admissionOf(ctx, limits, clock).add({
        counters: applied.map((l) => ({ key: l.key, window: slidingWindow(l.period), limit: l.calls, cost })),
        admitted(c, states) {
          // With <api>/<operation> limits the tightest one tells the client how many more calls
          // to this operation can succeed; total-calls names that same limit so the two agree.
          const i = tightest(states);
          const remaining = states[i]?.remaining ?? 0;
          setHeader(c, out.remainingHeader, remaining);
          setVariable(c, out.remainingVar, remaining);
          setHeader(c, out.totalHeader, applied[i]?.calls ?? 0);
        },
        refused(c, i, s) {
          const seconds = retryAfterSeconds(s.retryAfterMs);
          setVariable(c, out.retryVar, seconds);
          const headers: Record<string, string> = {};
          if (out.retryHeader !== undefined) headers[out.retryHeader] = String(seconds);
          if (out.remainingHeader !== undefined) headers[out.remainingHeader] = '0';
          if (out.totalHeader !== undefined) headers[out.totalHeader] = String(applied[i]?.calls ?? 0);
          return new GatewayError('GW_ERR_RATE_LIMIT', `Rate limit is exceeded. Try again in ${seconds} seconds.`, { headers });
        },
        actual(c) {
          let counted = count.settle(c, cost);
          if (condition !== undefined) {
            try {
              if (!condition(c)) counted = 0;
            } catch {
              // Off the response path: a failing condition keeps the count.
            }
          }
          return applied.map(() => counted);
        },
      });
    },
  };
}

/** Index of the state with the fewest calls left; the first (outermost) on a tie. */
function tightest(states: readonly CounterState[]): number {
  let best = 0;
  for (let i = 1; i < states.length; i++) if ((states[i]?.remaining ?? 0) < (states[best]?.remaining ?? 0)) best = i;
  return best;
}
