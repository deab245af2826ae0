/**
 * `<return-response [response-variable-name="v"]>` with `<set-status>`, `<set-header>`, `<set-body>`
 * children: ends the pipeline with this response. In outbound and on-error it starts from the
 * current response's headers (so an on-error `set-header` placed before it, as in the seeds,
 * still applies); in inbound and backend it starts empty; with response-variable-name it starts
 * from a response stored by `send-request`.
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import { runSection } from '../../core/pipeline.ts';
import { GatewayError } from '../../core/errors.ts';
import { StoredResponse } from '../send-request/stored-response.ts';

export const returnResponseDefinition: PolicyDefinition = {
  names: ['return-response'],
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  compile(r, scope, _env, compileChildren) {
    const variable = r.literal('response-variable-name');
    const children = compileChildren(r.children(['set-status', 'set-header', 'set-body']), { ...scope, target: 'response' });
    const inherit = scope.section === 'outbound' || scope.section === 'on-error';
    return {
      name: 'return-response',
      async run(ctx) {
        const previous = ctx.response;
        if (previous?.body.kind === 'stream') previous.body.stream.destroy();
        if (variable !== undefined) {
          const stored = ctx.variables.get(variable);
          if (!(stored instanceof StoredResponse)) throw new GatewayError('GW_ERR_POLICY_FAILED', `return-response: variable "${variable}" does not hold a response.`);
          ctx.response = stored.toGatewayResponse();
        } else {
          const headers: Record<string, string | string[]> = {};
          if (inherit && previous !== null) for (const [k, v] of Object.entries(previous.headers)) if (k !== 'content-length') headers[k] = v;
          ctx.response = { status: 200, headers, body: { kind: 'empty' } };
        }
        await runSection(children, ctx);
        ctx.ended = true;
      },
    };
  },
};
