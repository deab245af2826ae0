/**
 * `<choose><when condition="@(...)">...</when>...<otherwise>...</otherwise></choose>`: runs the
 * policies of the first `when` whose condition is true, else `otherwise`.
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import type { Policy } from '../../core/pipeline.ts';
import { runSection } from '../../core/pipeline.ts';
import { ElementReader } from '../../policy-docs/reader.ts';
import type { Dyn } from '../../policy-docs/values.ts';

export const chooseDefinition: PolicyDefinition = {
  names: ['choose'],
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  compile(r, scope, _env, compileChildren) {
    r.noText();
    const branches: Array<{ condition: Dyn<boolean>; policies: Policy[] }> = [];
    let otherwise: Policy[] | null = null;
    for (const child of r.children(['when', 'otherwise'])) {
      const c = new ElementReader(child);
      if (child.name === 'when') {
        if (otherwise !== null) throw c.fail(null, 'must come before <otherwise>');
        const condition = c.bool('condition', undefined, true) as Dyn<boolean>;
        c.done();
        branches.push({ condition, policies: compileChildren(child.children, scope) });
      } else {
        if (otherwise !== null) throw c.fail(null, 'appears twice');
        c.done();
        otherwise = compileChildren(child.children, scope);
      }
    }
    if (branches.length === 0) throw r.fail(null, 'needs at least one <when>');
    const fallback = otherwise;
    return {
      name: 'choose',
      run(ctx) {
        for (const b of branches) {
          if (b.condition(ctx)) return runSection(b.policies, ctx);
        }
        return fallback === null ? undefined : runSection(fallback, ctx);
      },
    };
  },
};
