/**
 * `<rewrite-uri template="/deployments/{deployment-id}/chat/completions" copy-unmatched-params="true" />`:
 * changes the path forwarded below the backend URL. `{name}` placeholders take the route's matched
 * parameters and then query parameters; with copy-unmatched-params (default) the original query
 * parameters not used by the template are kept.
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import { GatewayError } from '../../core/errors.ts';
import { canonicalPath } from '../../server/canonical-path.ts';

export const rewriteUriDefinition: PolicyDefinition = {
  names: ['rewrite-uri'],
  sections: ['inbound'],
  compile(r) {
    r.children([]);
    const template = r.string('template', true);
    const copy = r.bool('copy-unmatched-params', true) ?? (() => true);
    return {
      name: 'rewrite-uri',
      run(ctx) {
        const original = new URLSearchParams(ctx.request.query.slice(1));
        const used = new Set<string>();
        const value = template(ctx).replace(/\{([^{}]+)\}/g, (_m, name: string) => {
          const v = ctx.request.matchedParameters.get(name) ?? original.get(name);
          if (v === null || v === undefined) throw new GatewayError('GW_ERR_POLICY_FAILED', `rewrite-uri: no value for {${name}}.`);
          used.add(name);
          return encodeURIComponent(v);
        });
        const q = value.indexOf('?');
        // The rewritten path obeys the ingress rule (one canonical spelling, or refused), and dot
        // segments, however encoded, are refused: a value from the request (a placeholder, an
        // expression over a header) must not move the path, and `%2e%2e` must not reach a backend
        // that resolves it.
        const path = canonicalPath(q < 0 ? value : value.slice(0, q), true);
        if (!path.ok) throw new GatewayError('GW_ERR_POLICY_FAILED', `rewrite-uri: the template must produce a canonical absolute path (${path.reason}).`);
        const params = new URLSearchParams(q < 0 ? '' : value.slice(q + 1));
        if (copy(ctx)) for (const [k, v] of original) if (!used.has(k) && !params.has(k)) params.append(k, v);
        ctx.request.suffix = path.path;
        const qs = params.toString();
        ctx.request.query = qs === '' ? '' : `?${qs}`;
      },
    };
  },
};
