/**
 * `<set-status code="400" reason="Bad Request" />`: the response status (outbound, on-error, or
 * inside return-response). The reason phrase is accepted; HTTP/1.1 clients rarely read it and
 * Node sends the standard phrase.
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import { ensureResponse } from '../shared/message.ts';

export const setStatusDefinition: PolicyDefinition = {
  names: ['set-status'],
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  compile(r, scope) {
    r.children([]);
    if (scope.target !== 'response') throw r.fail(null, 'sets a response status: use it in outbound, on-error or inside <return-response>');
    const code = r.int('code', { min: 100, max: 599, required: true }) as NonNullable<ReturnType<typeof r.int>>;
    r.string('reason');
    return {
      name: 'set-status',
      run(ctx) {
        ensureResponse(ctx).status = code(ctx);
      },
    };
  },
};
