/**
 * `<trace source="x" severity="verbose|information|error"><message>...</message><metadata name="k" value="v"/></trace>`:
 * writes a structured log line (pino) with the request id: verbose → debug, information → info,
 * error → error.
 *
 * A message or metadata value that is a policy expression containing a secret named value is
 * logged as `[REDACTED]` whole: what the expression does to the secret (a substring, a case
 * change) is unknowable, so no redaction of the result could be trusted. A constant holding a
 * secret is left to the logger's redactor, which finds it.
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import type { PolicyValue } from '../../policy-docs/element.ts';
import { ElementReader } from '../../policy-docs/reader.ts';
import { constant, type Dyn } from '../../policy-docs/values.ts';
import { isExpression } from '../../expressions/index.ts';
import { containsSecret } from '../../secrets/redactor.ts';

/** The value, or a constant `[REDACTED]` when it is an expression over a secret. */
function guarded(source: PolicyValue | null | undefined, value: Dyn<string>): Dyn<string> {
  return source !== null && source !== undefined && isExpression(source.value) && containsSecret(source.value) ? constant('[REDACTED]') : value;
}

export const traceDefinition: PolicyDefinition = {
  names: ['trace'],
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  compile(r, _scope, env) {
    const source = r.literal('source', true) as string;
    const severity = r.oneOf('severity', ['verbose', 'information', 'error'] as const, 'verbose') ?? 'verbose';
    let message: Dyn<string> | undefined;
    const metadata: Array<{ name: string; value: Dyn<string> }> = [];
    for (const child of r.children(['message', 'metadata'])) {
      const c = new ElementReader(child);
      if (child.name === 'message') {
        const text = c.text();
        message = text === undefined ? undefined : guarded(child.text, text);
      } else metadata.push({ name: c.literal('name', true) as string, value: guarded(child.attrs.get('value'), c.string('value', true)) });
      c.done();
    }
    if (message === undefined) throw r.fail(null, 'needs a <message>');
    const msg = message;
    const logger = env.services.logger;
    const level = severity === 'error' ? 'error' : severity === 'information' ? 'info' : 'debug';
    return {
      name: 'trace',
      run(ctx) {
        if (!logger.isLevelEnabled(level)) return;
        const meta: Record<string, string> = {};
        for (const m of metadata) meta[m.name] = m.value(ctx);
        logger[level]({ requestId: ctx.requestId, traceSource: source, metadata: meta }, msg(ctx));
      },
    };
  },
};
