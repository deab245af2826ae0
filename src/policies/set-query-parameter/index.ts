/**
 * `<set-query-parameter name="api-version" exists-action="override|skip|append|delete"><value>..</value></set-query-parameter>`
 * on the request forwarded to the backend.
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import { readValueList } from '../shared/value-list.ts';

export const setQueryParameterDefinition: PolicyDefinition = {
  names: ['set-query-parameter'],
  sections: ['inbound', 'backend'],
  compile(r) {
    const name = r.literal('name', true) as string;
    const { action, values } = readValueList(r);
    return {
      name: 'set-query-parameter',
      run(ctx) {
        const params = new URLSearchParams(ctx.request.query.slice(1));
        const exists = params.has(name);
        if (action === 'delete') params.delete(name);
        else if (action === 'skip' && exists) return;
        else {
          if (action !== 'append') params.delete(name);
          for (const v of values) params.append(name, v(ctx));
        }
        const q = params.toString();
        ctx.request.query = q === '' ? '' : `?${q}`;
      },
    };
  },
};
