/**
 * `<set-query-parameter name="api-version" exists-action="override|skip|append|delete"><value>..</value></set-query-parameter>`
 * on the request forwarded to the backend.
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import type { Dyn } from '../../policy-docs/values.ts';
import { ElementReader } from '../../policy-docs/reader.ts';

export const setQueryParameterDefinition: PolicyDefinition = {
  names: ['set-query-parameter'],
  sections: ['inbound', 'backend'],
  compile(r) {
    const name = r.literal('name', true) as string;
    const action = r.oneOf('exists-action', ['override', 'skip', 'append', 'delete'] as const, 'override') ?? 'override';
    const values: Dyn<string>[] = [];
    const attrValue = r.string('value');
    if (attrValue !== undefined) values.push(attrValue);
    for (const child of r.children(['value'])) {
      const v = new ElementReader(child);
      v.done();
      values.push(v.text() ?? (() => ''));
    }
    if (action !== 'delete' && values.length === 0) throw r.fail(null, 'needs a <value> (or exists-action="delete")');
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
