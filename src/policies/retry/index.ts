/**
 * `<retry condition="@(...)" count="3" interval="1" delta="1" max-interval="10" first-fast-retry="true">`:
 * runs its child policies, then again while the condition holds and retries remain
 * (APIM-SEMANTICS §6). Waits, for the k-th retry (k from 0):
 *   interval only               → interval
 *   interval + delta            → interval + k·delta                          (linear)
 *   interval + delta + max      → min(interval + (2^k − 1)·U(0.8δ, 1.2δ), max) (exponential, jittered)
 *   first-fast-retry            → the first retry waits 0; later ones keep their k.
 * A backend that cannot be reached inside a retry counts as a response with its gateway status
 * (502/504), so conditions like `StatusCode >= 500` retry it; if the last attempt still fails that
 * way, the error goes to on-error. Nothing here runs after the first byte reached the client:
 * the pipeline finishes before the response is written.
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import { runSection } from '../../core/pipeline.ts';
import { GatewayError, toGatewayError } from '../../core/errors.ts';
import { errorResponse } from '../../core/error-response.ts';
import type { Dyn } from '../../policy-docs/values.ts';

const RETRYABLE = new Set(['GW_ERR_BACKEND_UNREACHABLE', 'GW_ERR_BACKEND_UNAVAILABLE', 'GW_ERR_BACKEND_OVERLOADED', 'GW_ERR_BACKEND_TIMEOUT', 'GW_ERR_BACKEND_BAD_RESPONSE', 'GW_ERR_BACKEND_ERROR_STATUS']);

export interface BackoffSpec {
  readonly interval: number;
  readonly delta?: number | undefined;
  readonly maxInterval?: number | undefined;
  readonly firstFastRetry: boolean;
}

/** Seconds to wait before retry number k (0-based). `random` returns [0, 1). */
export function backoffSeconds(spec: BackoffSpec, k: number, random: () => number = Math.random): number {
  if (spec.firstFastRetry && k === 0) return 0;
  const { interval, delta, maxInterval } = spec;
  if (delta === undefined) return maxInterval === undefined ? interval : Math.min(interval, maxInterval);
  if (maxInterval === undefined) return interval + k * delta;
  const jittered = delta * (0.8 + 0.4 * random());
  return Math.min(interval + (2 ** k - 1) * jittered, maxInterval);
}

export const retryDefinition: PolicyDefinition = {
  names: ['retry'],
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  compile(r, scope, env, compileChildren) {
    const condition = r.bool('condition', undefined, true) as Dyn<boolean>;
    const count = r.int('count', { min: 1, max: 50, required: true }) as Dyn<number>;
    const interval = r.int('interval', { min: 0, max: 3600, required: true }) as Dyn<number>;
    const delta = r.int('delta', { min: 0, max: 3600 });
    const maxInterval = r.int('max-interval', { min: 0, max: 3600 });
    const firstFast = r.bool('first-fast-retry', false) as Dyn<boolean>;
    const children = compileChildren(r.children(r.el.children.map((c) => c.name).filter((n) => n !== 'wait')), { ...scope, inRetry: true });
    if (r.el.children.some((c) => c.name === 'wait')) throw r.fail(null, 'may not contain <wait>');
    const { sleep } = env.services;
    return {
      name: 'retry',
      async run(ctx) {
        const retries = count(ctx);
        for (let k = 0; ; k++) {
          let failure: GatewayError | null = null;
          try {
            await runSection(children, ctx);
          } catch (err) {
            const e = toGatewayError(err);
            if (!RETRYABLE.has(e.code) || ctx.signal.aborted) throw e;
            failure = e;
            ctx.response = errorResponse(ctx, e);
          }
          if (ctx.ended) return;
          if (k >= retries || !condition(ctx)) {
            if (failure !== null) throw failure;
            return;
          }
          const spec = { interval: interval(ctx), delta: delta?.(ctx), maxInterval: maxInterval?.(ctx), firstFastRetry: firstFast(ctx) };
          const seconds = backoffSeconds(spec, k);
          if (seconds > 0) await sleep(seconds * 1000, ctx.signal);
        }
      },
    };
  },
};
