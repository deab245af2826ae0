/**
 * `quota-by-key`: calls and/or kilobytes per fixed `renewal-period` per `counter-key` (the shared
 * behaviour, including what bandwidth counts, is in ../quota/claim.ts). Over the quota: 403 `Out
 * of call volume quota. Quota will be replenished in hh:mm:ss.` with Retry-After.
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import { renewalWindow } from '../../limits/windows.ts';
import { compileQuotaLimit, readQuotaAmounts, readQuotaPeriod } from '../quota/claim.ts';

export const quotaByKeyDefinition: PolicyDefinition = {
  names: ['quota-by-key'],
  sections: ['inbound'],
  compile(r, _scope, env) {
    r.children([]);
    const key = r.string('counter-key', true);
    const { calls, kilobytes } = readQuotaAmounts(r);
    const { period, anchor } = readQuotaPeriod(r);
    return compileQuotaLimit(r, env, (ctx, now) => {
      const k = key(ctx);
      return [{ callsKey: `quota:${k}`, bytesKey: `quota-bytes:${k}`, calls: calls?.(ctx), kilobytes: kilobytes?.(ctx), window: renewalWindow(period(ctx), anchor, now) }];
    });
  },
};
