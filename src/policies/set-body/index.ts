/**
 * `<set-body>text or @(expression)</set-body>`: replaces the request body (inbound, backend) or the
 * response body (outbound, on-error, return-response). A JSON request body is parsed again so
 * routing and metering see what is actually sent.
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import { GatewayError } from '../../core/errors.ts';
import { ensureResponse } from '../shared/message.ts';

export const setBodyDefinition: PolicyDefinition = {
  names: ['set-body'],
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  compile(r, scope, env) {
    r.children([]);
    const template = r.literal('template');
    if (template !== undefined && template.toLowerCase() !== 'none') throw r.fail('template', 'only "none" is supported (Liquid templates are not)');
    r.literal('xsi-nil');
    const text = r.text() ?? (() => '');
    const target = scope.target;
    const limit = env.services.maxResponseBytes;
    return {
      name: 'set-body',
      run(ctx) {
        const body = Buffer.from(text(ctx), 'utf8');
        if (target === 'request') {
          ctx.request.body = body;
          if (ctx.request.json !== null) {
            try {
              const parsed: unknown = JSON.parse(body.toString('utf8'));
              ctx.request.json = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
            } catch {
              ctx.request.json = null;
            }
          }
          return;
        }
        if (body.length > limit) throw new GatewayError('GW_ERR_RESPONSE_TOO_LARGE', 'set-body produced a body larger than gateway.maxResponseBytes.');
        const res = ensureResponse(ctx);
        if (res.body.kind === 'stream') res.body.stream.destroy();
        res.body = { kind: 'buffer', data: body };
        delete res.headers['content-length'];
        delete res.headers['content-encoding'];
      },
    };
  },
};
