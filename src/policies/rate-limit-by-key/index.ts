/**
 * `rate-limit-by-key` (calls per sliding `renewal-period` per `counter-key`) and `rate-limit`
 * (the same, keyed by subscription). A call is reserved before forwarding; with an
 * `increment-condition` (evaluated when the response is known, as APIM's example
 * `context.Response.StatusCode == 200` implies) a call that fails the condition is given back.
 * Over the limit: 429 `Rate limit is exceeded. Try again in N seconds.` with Retry-After.
 * @module
 */
import { GatewayError } from '../../core/errors.ts';
import type { PolicyDefinition, PolicyEnv } from '../../policy-docs/compile.ts';
import type { ElementReader } from '../../policy-docs/reader.ts';
import type { Dyn } from '../../policy-docs/values.ts';
import type { RequestContext } from '../../core/context.ts';
import { admissionOf } from '../../limits/admission.ts';
import { headerNameAttr, variableNameAttr } from '../../limits/attrs.ts';
import { retryAfterSeconds, setHeader, setVariable } from '../../limits/claim-output.ts';
import { slidingWindow } from '../../limits/windows.ts';
import type { Policy } from '../../core/pipeline.ts';

function compileRateLimit(r: ElementReader, env: PolicyEnv, key: (ctx: RequestContext) => string): Policy {
  r.noText();
  const calls = r.int('calls', { min: 1, max: 1_000_000_000, required: true }) as Dyn<number>;
  const period = r.int('renewal-period', { min: 1, max: 300, required: true }) as Dyn<number>;
  const condition = r.bool('increment-condition');
  const count = r.int('increment-count', { min: 1, max: 1_000_000, fallback: 1 }) as Dyn<number>;
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
      const limit = calls(ctx);
      const cost = count(ctx);
      admissionOf(ctx, limits, clock).add({
        counters: [{ key: `calls:${period(ctx)}:${key(ctx)}`, window: slidingWindow(period(ctx)), limit, cost }],
        admitted(c, [s]) {
          setHeader(c, out.remainingHeader, s?.remaining ?? 0);
          setVariable(c, out.remainingVar, s?.remaining ?? 0);
          setHeader(c, out.totalHeader, limit);
        },
        refused(c, _i, s) {
          const seconds = retryAfterSeconds(s.retryAfterMs);
          setVariable(c, out.retryVar, seconds);
          const headers: Record<string, string> = {};
          if (out.retryHeader !== undefined) headers[out.retryHeader.toLowerCase()] = String(seconds);
          if (out.remainingHeader !== undefined) headers[out.remainingHeader.toLowerCase()] = '0';
          if (out.totalHeader !== undefined) headers[out.totalHeader.toLowerCase()] = String(limit);
          return new GatewayError('GW_ERR_RATE_LIMIT', `Rate limit is exceeded. Try again in ${seconds} seconds.`, { headers });
        },
        actual(c) {
          if (condition === undefined) return [cost];
          try {
            return [condition(c) ? cost : 0];
          } catch {
            return [cost];
          }
        },
      });
    },
  };
}

export const rateLimitByKeyDefinition: PolicyDefinition = {
  names: ['rate-limit-by-key'],
  sections: ['inbound'],
  compile(r, _scope, env) {
    r.children([]);
    const key = r.string('counter-key', true);
    return compileRateLimit(r, env, key);
  },
};

export const rateLimitDefinition: PolicyDefinition = {
  names: ['rate-limit'],
  sections: ['inbound'],
  compile(r, _scope, env) {
    // Per-API and per-operation child limits (<api>, <operation>) are not supported yet.
    r.children([]);
    return compileRateLimit(r, env, (ctx) => `subscription:${ctx.subscription?.id ?? 'anonymous'}`);
  },
};
