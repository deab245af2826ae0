/**
 * `<emit-metric name="requests" value="1" namespace="ai-gateway"><dimension name="API ID" value="@(context.Api.Id)" /></emit-metric>`:
 * adds `value` to the Prometheus counter `tollgate_custom_<namespace>_<name>` with one label per
 * dimension (up to 10; without a value, APIM's default dimensions resolve from the context, see
 * shared/metric-dimensions.ts). In the outbound section of a streamed answer it runs when the
 * stream has ended (docs/metering.md "Streams"), so its value may read the usage headers.
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import { GatewayError } from '../../core/errors.ts';
import type { Dyn } from '../../policy-docs/values.ts';
import { readDimensions } from '../shared/metric-dimensions.ts';

export const emitMetricDefinition: PolicyDefinition = {
  names: ['emit-metric'],
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  compile(r, _scope, env) {
    const name = r.literal('name', true) as string;
    const namespace = r.literal('namespace') ?? 'api-management';
    const valueText = r.string('value', false, '1') as Dyn<string>;
    const dims = readDimensions(r);
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
