/**
 * `<check-header name="x" failed-check-httpcode="401" failed-check-error-message="..." ignore-case="true"><value>a</value></check-header>`:
 * the request must carry the header, and (when `<value>`s are listed) one of those values;
 * otherwise the request ends with that status and message in the API's error format.
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import { GatewayError } from '../../core/errors.ts';
import { ElementReader } from '../../policy-docs/reader.ts';
import type { Dyn } from '../../policy-docs/values.ts';

export const checkHeaderDefinition: PolicyDefinition = {
  names: ['check-header'],
  sections: ['inbound'],
  compile(r) {
    const name = (r.literal('name', true) as string).toLowerCase();
    const codeText = r.literal('failed-check-httpcode', true) as string;
    const code = Number(codeText);
    if (!Number.isInteger(code) || code < 400 || code > 599) throw r.fail('failed-check-httpcode', 'must be a status from 400 to 599');
    const message = r.string('failed-check-error-message', true);
    const ignoreCase = r.bool('ignore-case', false, true) as Dyn<boolean>;
    const values: Dyn<string>[] = [];
    for (const child of r.children(['value'])) {
      const v = new ElementReader(child);
      v.done();
      const t = v.text();
      if (t !== undefined) values.push(t);
    }
    return {
      name: 'check-header',
      run(ctx) {
        const raw = ctx.request.headers[name];
        const present = raw === undefined ? [] : (Array.isArray(raw) ? raw : [raw]).flatMap((h) => h.split(',').map((s) => s.trim()));
        const fold = ignoreCase(ctx);
        const norm = (s: string): string => (fold ? s.toLowerCase() : s);
        const ok = present.length > 0 && (values.length === 0 || present.some((p) => values.some((v) => norm(v(ctx)) === norm(p))));
        if (!ok) throw new GatewayError('GW_ERR_POLICY_CHECK_HEADER', message(ctx), { status: code });
      },
    };
  },
};
