/**
 * `rate-limit`: calls per sliding `renewal-period` per subscription, across every API, plus the
 * optional `<api>` and `<operation>` limits of src/limits/scopes.ts, each with its own `calls` and
 * `renewal-period` (both required, as APIM documents). All the limits that apply to a request are
 * checked together; over any of them the request gets 429 with Retry-After.
 *
 * @example
 * ```xml
 * <rate-limit calls="100" renewal-period="60">
 *   <api id="azure-openai" calls="20" renewal-period="60">
 *     <operation id="ChatCompletions_Create" calls="5" renewal-period="10" />
 *   </api>
 * </rate-limit>
 * ```
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import type { RequestContext } from '../../core/context.ts';
import { readApiScopes, scopeKey, scopesFor } from '../../limits/scopes.ts';
import { compileCallLimit, readCallLimit, type CallLimit } from './claim.ts';

export const rateLimitDefinition: PolicyDefinition = {
  names: ['rate-limit'],
  sections: ['inbound'],
  compile(r, _scope, env) {
    const { calls, period } = readCallLimit(r);
    const scopes = readApiScopes(r, env, readCallLimit);
    return compileCallLimit(r, env, (ctx: RequestContext): CallLimit[] => {
      const sub = ctx.subscription?.id ?? 'anonymous';
      const p = period(ctx);
      // The outer key is the one `rate-limit` has always used, so running counters survive an upgrade.
      const out: CallLimit[] = [{ key: `calls:${p}:subscription:${sub}`, calls: calls(ctx), period: p }];
      for (const s of scopesFor(scopes, ctx)) {
        const sp = s.limit.period(ctx);
        out.push({ key: `calls-scoped:${sp}:${scopeKey(sub, s)}`, calls: s.limit.calls(ctx), period: sp });
      }
      return out;
    });
  },
};
