/**
 * `<mock-response status-code="200" content-type="application/json" />`: answers without calling
 * the backend. APIM takes the body from the API's response examples; Tollgate has none for AI
 * APIs, so the body is empty (`{}` for JSON).
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';

export const mockResponseDefinition: PolicyDefinition = {
  names: ['mock-response'],
  sections: ['inbound', 'outbound', 'on-error'],
  compile(r) {
    r.children([]);
    const literal = r.literal('status-code');
    const status = literal === undefined ? 200 : Number(literal);
    if (!Number.isInteger(status) || status < 100 || status > 599) throw r.fail('status-code', 'must be an HTTP status from 100 to 599');
    const contentType = r.literal('content-type') ?? 'application/json';
    const body = Buffer.from(contentType.includes('json') && status !== 204 ? '{}' : '');
    return {
      name: 'mock-response',
      run(ctx) {
        if (ctx.response?.body.kind === 'stream') ctx.response.body.stream.destroy();
        ctx.response = { status, headers: { 'content-type': contentType }, body: body.length === 0 ? { kind: 'empty' } : { kind: 'buffer', data: body } };
        ctx.ended = true;
      },
    };
  },
};
