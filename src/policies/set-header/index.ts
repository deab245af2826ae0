/**
 * `<set-header name="x" exists-action="override|skip|append|delete"><value>...</value></set-header>`
 * on the request (inbound, backend) or the response (outbound, on-error, return-response). The YAML
 * form may give one `value` attribute instead of `<value>` children.
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import { readValueList } from '../shared/value-list.ts';
import { checkHeaderName, checkHeaderValue, headersOf } from '../shared/message.ts';

export const setHeaderDefinition: PolicyDefinition = {
  names: ['set-header'],
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  compile(r, scope) {
    const name = checkHeaderName(r.literal('name', true) as string);
    const { action, values } = readValueList(r);
    const target = scope.target;
    return {
      name: 'set-header',
      run(ctx) {
        const headers = headersOf(ctx, target);
        if (action === 'delete') {
          delete headers[name];
          return;
        }
        const existing = headers[name];
        if (action === 'skip' && existing !== undefined) return;
        const computed = values.map((v) => checkHeaderValue(name, v(ctx)));
        if (action === 'append' && existing !== undefined) {
          headers[name] = [...(Array.isArray(existing) ? existing : [existing]), ...computed];
        } else {
          headers[name] = computed.length === 1 ? (computed[0]) : computed;
        }
      },
    };
  },
};
