/**
 * `<set-method>POST</set-method>`: the HTTP method forwarded to the backend.
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import { GatewayError } from '../../core/errors.ts';

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

export const setMethodDefinition: PolicyDefinition = {
  names: ['set-method'],
  sections: ['inbound', 'backend', 'on-error'],
  compile(r) {
    r.children([]);
    const text = r.text();
    if (text === undefined) throw r.fail(null, 'needs the method as its text, e.g. <set-method>POST</set-method>');
    if (text.constant !== undefined && !METHODS.has(text.constant.trim().toUpperCase())) throw r.fail(null, `"${text.constant}" is not an HTTP method`);
    return {
      name: 'set-method',
      run(ctx) {
        const m = text(ctx).trim().toUpperCase();
        // The computed value is not quoted: it may be derived from a secret (docs/security.md).
        if (!METHODS.has(m)) throw new GatewayError('GW_ERR_POLICY_FAILED', 'set-method: the text did not evaluate to an HTTP method.');
        ctx.request.method = m;
      },
    };
  },
};
