/**
 * `rate-limit-by-key`: calls per sliding `renewal-period` per `counter-key` (the shared behaviour
 * is in ../rate-limit/claim.ts). Over the limit: 429 `Rate limit is exceeded. Try again in N
 * seconds.` with Retry-After.
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import { compileCallLimit, readCallLimit } from '../rate-limit/claim.ts';

export const rateLimitByKeyDefinition: PolicyDefinition = {
  names: ['rate-limit-by-key'],
  sections: ['inbound'],
  compile(r, _scope, env) {
    r.children([]);
    const key = r.string('counter-key', true);
    const { calls, period } = readCallLimit(r);
    return compileCallLimit(r, env, (ctx) => {
      const p = period(ctx);
      return [{ key: `calls:${p}:${key(ctx)}`, calls: calls(ctx), period: p }];
    });
  },
};
