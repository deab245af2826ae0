/**
 * `<llm-emit-token-metric namespace="ai-gateway"><dimension name="Tenant" value="@(...)" /></llm-emit-token-metric>`
 * (and its `azure-openai-` twin): counts the request's Total, Prompt and Completion tokens on three
 * counters, `tollgate_custom_<namespace>_{total,prompt,completion}_tokens`, one label per
 * dimension (mirrored over OTLP when `telemetry.otlp` is set).
 *
 * Expression dimensions are evaluated where the policy stands (inbound, as in APIM: an error goes
 * to on-error); the counts are added when the request is over, from the final usage record, so a
 * streamed answer counts with the usage its last chunk reported (APIM cannot meter streams). APIM's
 * default dimensions (API ID, Backend ID, …) are resolved then too, so Backend ID names the member
 * that answered. A request with no usage (refused, failed before the backend) adds nothing.
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import type { RequestContext } from '../../core/context.ts';
import { readDimensions } from '../shared/metric-dimensions.ts';

export const emitTokenMetricDefinition: PolicyDefinition = {
  names: ['llm-emit-token-metric', 'azure-openai-emit-token-metric'],
  sections: ['inbound'],
  compile(r, _scope, env) {
    const namespace = r.literal('namespace') ?? 'API Management';
    r.noText();
    const dims = readDimensions(r);
    const names = dims.map((d) => d.name);
    let counters;
    try {
      counters = (['Total Tokens', 'Prompt Tokens', 'Completion Tokens'] as const).map((metric) => env.services.metrics.customCounter(namespace, metric, names));
    } catch (err) {
      throw r.fail('namespace', (err as Error).message);
    }
    const [total, prompt, completion] = counters as [(typeof counters)[number], (typeof counters)[number], (typeof counters)[number]];
    const policyName = r.el.name;
    // Without default dimensions every label is known in inbound: the finisher adds no array.
    const anyDefault = dims.some((d) => d.isDefault);
    return {
      name: policyName,
      run(ctx) {
        // Expression values now (their errors are this policy's); defaults at the end.
        const values: Array<string | null> = dims.map((d) => (d.isDefault ? null : d.value(ctx)));
        ctx.finishers.push((done: RequestContext) => {
          const tokens = done.tokens;
          if (tokens === null) return;
          const labels = anyDefault ? dims.map((d, i) => values[i] ?? d.value(done)) : (values as string[]);
          if (tokens.totalTokens > 0) total(labels, tokens.totalTokens);
          if (tokens.promptTokens > 0) prompt(labels, tokens.promptTokens);
          if (tokens.completionTokens > 0) completion(labels, tokens.completionTokens);
        });
      },
    };
  },
};
