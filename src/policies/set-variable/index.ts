/**
 * `<set-variable name="x" value="@(...)" />`: stores a value in `context.Variables`. Expression
 * results are kept with their type (string, number, bool, JSON token); constants are strings.
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';

export const setVariableDefinition: PolicyDefinition = {
  names: ['set-variable'],
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  compile(r) {
    r.children([]);
    const name = r.literal('name', true) as string;
    const value = r.any('value', true);
    if (value === undefined) throw r.fail('value', 'is required');
    return {
      name: 'set-variable',
      run(ctx) {
        ctx.variables.set(name, value(ctx));
      },
    };
  },
};
