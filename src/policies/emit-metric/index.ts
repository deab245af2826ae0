/**
 * `<emit-metric name="requests" value="1" namespace="ai-gateway"><dimension name="API ID" value="@(context.Api.Id)" /></emit-metric>`:
 * adds `value` to the Prometheus counter `tollgate_custom_<namespace>_<name>` with one label per
 * dimension. Dimensions without a value take APIM's defaults where one exists (API ID, Operation
 * ID, Product ID, Subscription ID, Location, Gateway ID), else "N/A".
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import type { RequestContext } from '../../core/context.ts';
import { GatewayError } from '../../core/errors.ts';
import { ElementReader } from '../../policy-docs/reader.ts';
import type { Dyn } from '../../policy-docs/values.ts';

const DEFAULT_DIMENSIONS: Record<string, (ctx: RequestContext) => string> = {
  'api id': (ctx) => ctx.api?.id ?? 'N/A',
  'operation id': (ctx) => ctx.operation?.id ?? 'N/A',
  'product id': (ctx) => ctx.productId ?? 'N/A',
  'subscription id': (ctx) => ctx.subscription?.id ?? 'N/A',
  location: () => 'local',
  'gateway id': () => 'tollgate',
};

export const emitMetricDefinition: PolicyDefinition = {
  names: ['emit-metric'],
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  compile(r, _scope, env) {
    const name = r.literal('name', true) as string;
    const namespace = r.literal('namespace') ?? 'api-management';
    const valueText = r.string('value', false, '1') as Dyn<string>;
    const dims: Array<{ name: string; value: Dyn<string> }> = [];
    for (const child of r.children(['dimension'])) {
      const c = new ElementReader(child);
      const dname = c.literal('name', true) as string;
      const v = c.string('value');
      const fallback = DEFAULT_DIMENSIONS[dname.toLowerCase()];
      dims.push({ name: dname, value: v ?? fallback ?? (() => 'N/A') });
      c.done();
    }
    if (dims.length > 5) throw r.fail(null, 'takes at most 5 dimensions');
    let record;
    try {
      record = env.services.metrics.customCounter(namespace, name, dims.map((d) => d.name));
    } catch (err) {
      throw r.fail('name', (err as Error).message);
    }
    const emit = record;
    return {
      name: 'emit-metric',
      run(ctx) {
        const value = Number(valueText(ctx));
        // The computed value is not quoted: it may be derived from a secret (docs/security.md).
        if (!Number.isFinite(value) || value < 0) throw new GatewayError('GW_ERR_POLICY_FAILED', 'emit-metric: value did not evaluate to a non-negative number.');
        emit(dims.map((d) => d.value(ctx)), value);
      },
    };
  },
};
