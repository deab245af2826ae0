/**
 * `quota-by-key` (calls and/or kilobytes per fixed `renewal-period` per `counter-key`, periods
 * aligned to `first-period-start`; 0 = for ever) and `quota` (the same, keyed by subscription).
 * Calls are reserved before forwarding; bandwidth is counted in bytes when the request is over:
 * the request body, and the whole response as written to the client (status line, headers and
 * body; not the chunk-size lines of a chunked body, nor the request line and headers). Over the quota: 403 `Out of call volume quota. Quota will be
 * replenished in hh:mm:ss.` with Retry-After.
 * @module
 */
import { GatewayError } from '../../core/errors.ts';
import type { PolicyDefinition, PolicyEnv } from '../../policy-docs/compile.ts';
import type { ElementReader } from '../../policy-docs/reader.ts';
import type { Dyn } from '../../policy-docs/values.ts';
import type { RequestContext } from '../../core/context.ts';
import type { Policy } from '../../core/pipeline.ts';
import type { CounterRequest } from '../../state/limit-store.ts';
import { admissionOf } from '../../limits/admission.ts';
import { retryAfterSeconds, setVariable } from '../../limits/claim-output.ts';
import { renewalWindow, timeSpanText } from '../../limits/windows.ts';

function compileQuota(r: ElementReader, env: PolicyEnv, key: (ctx: RequestContext) => string): Policy {
  r.noText();
  const calls = r.int('calls', { min: 1, max: Number.MAX_SAFE_INTEGER });
  const kb = r.int('bandwidth', { min: 1, max: Number.MAX_SAFE_INTEGER });
  if (calls === undefined && kb === undefined) throw r.fail(null, 'needs calls, bandwidth, or both');
  const period = r.int('renewal-period', { min: 0, max: 100 * 365 * 86400, required: true }) as Dyn<number>;
  const condition = r.bool('increment-condition');
  const count = r.int('increment-count', { min: 1, max: 1_000_000, fallback: 1 }) as Dyn<number>;
  const startText = r.literal('first-period-start');
  const anchor = startText === undefined ? Date.UTC(1, 0, 1) : Date.parse(startText);
  if (Number.isNaN(anchor)) throw r.fail('first-period-start', 'must be an ISO 8601 time');
  const { limits, clock } = env.services;
  return {
    name: r.el.name,
    run(ctx) {
      if (ctx.preflight) return;
      const k = key(ctx);
      const window = renewalWindow(period(ctx), anchor, clock());
      const cost = count(ctx);
      const counters: CounterRequest[] = [];
      if (calls !== undefined) counters.push({ key: `quota:${k}`, window, limit: calls(ctx), cost });
      // Bandwidth is known only at the end: nothing is reserved, the window just must not be spent.
      // Counted in bytes (the limit is kilobytes × 1024), so small requests are not rounded up to 1 KB each.
      if (kb !== undefined) counters.push({ key: `quota-bytes:${k}`, window, limit: kb(ctx) * 1024, cost: 0 });
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
          const out: number[] = [];
          if (calls !== undefined) out.push(counted ? cost : 0);
          if (kb !== undefined) out.push(counted ? (c.request.body?.length ?? 0) + c.responseHeaderBytes + c.responseBytes : 0);
          return out;
        },
      });
    },
  };
}

export const quotaByKeyDefinition: PolicyDefinition = {
  names: ['quota-by-key'],
  sections: ['inbound'],
  compile(r, _scope, env) {
    r.children([]);
    const key = r.string('counter-key', true);
    return compileQuota(r, env, key);
  },
};

export const quotaDefinition: PolicyDefinition = {
  names: ['quota'],
  sections: ['inbound'],
  compile(r, _scope, env) {
    r.children([]);
    return compileQuota(r, env, (ctx) => `subscription:${ctx.subscription?.id ?? 'anonymous'}`);
  },
};
