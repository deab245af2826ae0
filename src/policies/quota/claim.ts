/**
 * What `quota` and `quota-by-key` share: calls and/or kilobytes per fixed `renewal-period`
 * (periods aligned to `first-period-start`; 0 = for ever) on one or more counters. Calls are
 * reserved before forwarding; bandwidth is counted in bytes when the request is over: the request
 * body, and the whole response as written to the client (status line, headers and body; not the
 * chunk-size lines of a chunked body, nor the request line and headers). Over any counter: 403
 * `Out of call volume quota. Quota will be replenished in hh:mm:ss.` with Retry-After.
 * @module
 */
import { incrementCount } from '../../limits/increment.ts';
import { GatewayError } from '../../core/errors.ts';
import type { RequestContext } from '../../core/context.ts';
import type { Policy } from '../../core/pipeline.ts';
import type { PolicyEnv } from '../../policy-docs/compile.ts';
import type { ElementReader } from '../../policy-docs/reader.ts';
import type { Dyn } from '../../policy-docs/values.ts';
import type { CounterRequest, WindowSpec } from '../../state/limit-store.ts';
import { admissionOf } from '../../limits/admission.ts';
import { retryAfterSeconds, setVariable } from '../../limits/claim-output.ts';
import { timeSpanText } from '../../limits/windows.ts';

/** One quota as it applies to a request: a calls counter, a bytes counter, or both. */
export interface QuotaLimit {
  readonly callsKey: string;
  readonly bytesKey: string;
  readonly calls: number | undefined;
  readonly kilobytes: number | undefined;
  readonly window: WindowSpec;
}

export interface QuotaAmounts {
  readonly calls: Dyn<number> | undefined;
  readonly kilobytes: Dyn<number> | undefined;
}

export const MAX_RENEWAL_PERIOD = 100 * 365 * 86400;

/** `calls` and/or `bandwidth` (at least one). */
export function readQuotaAmounts(r: ElementReader): QuotaAmounts {
  const calls = r.int('calls', { min: 1, max: Number.MAX_SAFE_INTEGER });
  const kilobytes = r.int('bandwidth', { min: 1, max: Number.MAX_SAFE_INTEGER });
  if (calls === undefined && kilobytes === undefined) throw r.fail(null, 'needs calls, bandwidth, or both');
  return { calls, kilobytes };
}

/** `renewal-period` (seconds, 0 = for ever) and `first-period-start` (an ISO 8601 time, as epoch ms). */
export function readQuotaPeriod(r: ElementReader): { period: Dyn<number>; anchor: number } {
  const period = r.int('renewal-period', { min: 0, max: MAX_RENEWAL_PERIOD, required: true }) as Dyn<number>;
  const startText = r.literal('first-period-start');
  const anchor = startText === undefined ? Date.UTC(1, 0, 1) : Date.parse(startText);
  if (Number.isNaN(anchor)) throw r.fail('first-period-start', 'must be an ISO 8601 time');
  return { period, anchor };
}

/**
 * Reads the attributes every quota has besides its limits, and returns the policy that claims
 * `limitsOf(ctx, now)` (all or nothing, with the request's other limits).
 */
export function compileQuotaLimit(r: ElementReader, env: PolicyEnv, limitsOf: (ctx: RequestContext, now: number) => readonly QuotaLimit[]): Policy {
  r.noText();
  const condition = r.bool('increment-condition');
  const count = incrementCount(r.int('increment-count', { min: 1, max: 1_000_000, fallback: 1 }) as Dyn<number>);
  const { limits, clock } = env.services;
  return {
    name: r.el.name,
    run(ctx) {
      if (ctx.preflight) return;
      const applied = limitsOf(ctx, clock());
      const cost = count.reserve(ctx);
      // Which counter measures what, in claim order: actual() must answer in the same order.
      const measures: Array<'calls' | 'bytes'> = [];
      const counters: CounterRequest[] = [];
      for (const q of applied) {
        if (q.calls !== undefined) {
          counters.push({ key: q.callsKey, window: q.window, limit: q.calls, cost });
          measures.push('calls');
        }
        // Bandwidth is known only at the end: nothing is reserved, the window just must not be spent.
        // Counted in bytes (the limit is kilobytes × 1024), so small requests are not rounded up to 1 KB each.
        if (q.kilobytes !== undefined) {
          counters.push({ key: q.bytesKey, window: q.window, limit: q.kilobytes * 1024, cost: 0 });
          measures.push('bytes');
        }
      }
      admissionOf(ctx, limits, clock).add({
        counters,
        admitted: () => undefined,
        refused(c, _i, s) {
          const seconds = retryAfterSeconds(s.retryAfterMs);
          setVariable(c, 'retry-after', seconds);
          return new GatewayError('GW_ERR_QUOTA', `Out of call volume quota. Quota will be replenished in ${timeSpanText(s.retryAfterMs)}.`, {
            headers: { 'retry-after': String(seconds) },
          });
        },
        actual(c) {
          let counted = true;
          if (condition !== undefined) {
            try {
              counted = condition(c);
            } catch {
              counted = true;
            }
          }
          if (!counted) return measures.map(() => 0);
          const bytes = (c.request.body?.length ?? 0) + c.responseHeaderBytes + c.responseBytes;
          const calls = count.settle(c, cost);
          return measures.map((m) => (m === 'calls' ? calls : bytes));
        },
      });
    },
  };
}
