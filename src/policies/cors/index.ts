/**
 * `<cors allow-credentials="false" terminate-unmatched-request="true">` with `<allowed-origins>`,
 * `<allowed-methods preflight-result-max-age="300">`, `<allowed-headers>`, `<expose-headers>`:
 * answers CORS preflights itself (they carry no subscription key and never reach the backend) and
 * adds the CORS headers to responses for allowed origins.
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import { ElementReader } from '../../policy-docs/reader.ts';
import type { PolicyElement } from '../../policy-docs/element.ts';

function listOf(el: PolicyElement | undefined, child: string): string[] {
  if (el === undefined) return [];
  const r = new ElementReader(el);
  const items = r.children([child]).map((c) => c.text?.value.trim() ?? '').filter((s) => s !== '');
  return items;
}

export const corsDefinition: PolicyDefinition = {
  names: ['cors'],
  sections: ['inbound'],
  compile(r) {
    const credentials = r.literal('allow-credentials')?.trim() === 'true';
    const terminate = r.literal('terminate-unmatched-request')?.trim() !== 'false';
    const children = r.children(['allowed-origins', 'allowed-methods', 'allowed-headers', 'expose-headers']);
    const find = (n: string): PolicyElement | undefined => children.find((c) => c.name === n);
    const origins = listOf(find('allowed-origins'), 'origin');
    if (origins.length === 0) throw r.fail(null, 'needs <allowed-origins> with at least one <origin>');
    if (credentials && origins.includes('*')) throw r.fail('allow-credentials', 'cannot be true with origin "*" (browsers refuse it)');
    const methodsEl = find('allowed-methods');
    const maxAge = methodsEl === undefined ? undefined : new ElementReader(methodsEl).literal('preflight-result-max-age');
    const methods = listOf(methodsEl, 'method').map((m) => m.toUpperCase());
    const allowedHeaders = listOf(find('allowed-headers'), 'header');
    const expose = listOf(find('expose-headers'), 'header');
    const anyOrigin = origins.includes('*');
    const allowOrigin = (origin: string): boolean => anyOrigin || origins.includes(origin);
    return {
      name: 'cors',
      run(ctx) {
        const origin = ctx.request.headers.origin;
        if (typeof origin !== 'string') return;
        const allowed = allowOrigin(origin);
        const base: Record<string, string> = {};
        if (allowed) {
          base['access-control-allow-origin'] = anyOrigin && !credentials ? '*' : origin;
          if (!anyOrigin || credentials) base['vary'] = 'Origin';
          if (credentials) base['access-control-allow-credentials'] = 'true';
        }
        if (!ctx.preflight) {
          if (allowed) ctx.extraResponseHeaders = { ...base, ...(expose.length > 0 && { 'access-control-expose-headers': expose.join(', ') }) };
          return;
        }
        const requested = String(ctx.request.headers['access-control-request-method'] ?? '').toUpperCase();
        const methodOk = methods.length === 0 || methods.includes('*') || methods.includes(requested);
        if (allowed && methodOk) {
          const reqHeaders = String(ctx.request.headers['access-control-request-headers'] ?? '');
          base['access-control-allow-methods'] = methods.length === 0 || methods.includes('*') ? requested : methods.join(', ');
          if (allowedHeaders.length > 0) base['access-control-allow-headers'] = allowedHeaders.includes('*') ? reqHeaders : allowedHeaders.join(', ');
          if (maxAge !== undefined) base['access-control-max-age'] = maxAge.trim();
          ctx.response = { status: 200, headers: base, body: { kind: 'empty' } };
          ctx.ended = true;
        } else if (terminate) {
          ctx.response = { status: 200, headers: {}, body: { kind: 'empty' } };
          ctx.ended = true;
        }
      },
    };
  },
};
