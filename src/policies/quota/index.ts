/**
 * `quota`: calls and/or kilobytes per fixed `renewal-period` per subscription, across every API,
 * plus the optional `<api>` and `<operation>` quotas of src/limits/scopes.ts, each with its own
 * `calls` and/or `bandwidth`. All the quotas that apply to a request are checked together; over
 * any of them the request gets 403 with Retry-After.
 *
 * A child's `renewal-period` is optional and defaults to the policy's: APIM's attribute table
 * marks it required, but its own policy statement leaves it out, so documents copied from either
 * load. Children share the policy's `first-period-start`.
 *
 * @example
 * ```xml
 * <quota calls="10000" bandwidth="40000" renewal-period="3600">
 *   <api name="Azure OpenAI" calls="5000">
 *     <operation id="ChatCompletions_Create" calls="1000" />
 *   </api>
 * </quota>
 * ```
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import type { ElementReader } from '../../policy-docs/reader.ts';
import type { Dyn } from '../../policy-docs/values.ts';
import { readApiScopes, scopeKey, scopesFor } from '../../limits/scopes.ts';
import { renewalWindow } from '../../limits/windows.ts';
import { compileQuotaLimit, MAX_RENEWAL_PERIOD, readQuotaAmounts, readQuotaPeriod, type QuotaAmounts, type QuotaLimit } from './claim.ts';

interface ChildQuota extends QuotaAmounts {
  readonly period: Dyn<number> | undefined;
}

function readChildQuota(c: ElementReader): ChildQuota {
  const amounts = readQuotaAmounts(c);
  return { ...amounts, period: c.int('renewal-period', { min: 0, max: MAX_RENEWAL_PERIOD }) };
}

export const quotaDefinition: PolicyDefinition = {
  names: ['quota'],
  sections: ['inbound'],
  compile(r, _scope, env) {
    const { calls, kilobytes } = readQuotaAmounts(r);
    const { period, anchor } = readQuotaPeriod(r);
    const scopes = readApiScopes(r, env, readChildQuota);
    return compileQuotaLimit(r, env, (ctx, now): QuotaLimit[] => {
      const sub = ctx.subscription?.id ?? 'anonymous';
      const p = period(ctx);
      // The outer keys are the ones `quota` has always used, so running quotas survive an upgrade.
      const out: QuotaLimit[] = [
        { callsKey: `quota:subscription:${sub}`, bytesKey: `quota-bytes:subscription:${sub}`, calls: calls?.(ctx), kilobytes: kilobytes?.(ctx), window: renewalWindow(p, anchor, now) },
      ];
      for (const s of scopesFor(scopes, ctx)) {
        const key = scopeKey(sub, s);
        const q = s.limit;
        out.push({
          callsKey: `quota-scoped:${key}`,
          bytesKey: `quota-bytes-scoped:${key}`,
          calls: q.calls?.(ctx),
          kilobytes: q.kilobytes?.(ctx),
          window: renewalWindow(q.period?.(ctx) ?? p, anchor, now),
        });
      }
      return out;
    });
  },
};
