/**
 * `<set-backend-service backend-id="openai-backend-pool" />` or `base-url="@(...)"`: where
 * forward-request sends the request. A backend-id must name a configured backend (checked at
 * load when it is a constant); a base-url carries no backend credentials. A base-url computed by
 * an expression is a run-time URL (it may come from a header): forward-request sends it through
 * the SSRF-guarded outbound client; a constant one is the operator's and is trusted. An `id`
 * attribute (written by APIM's portal editor) is accepted and ignored.
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import { GatewayError } from '../../core/errors.ts';

export const setBackendServiceDefinition: PolicyDefinition = {
  names: ['set-backend-service'],
  sections: ['inbound', 'backend'],
  compile(r, _scope, env) {
    r.children([]);
    // APIM's form-based policy editor writes `id="apim-generated-policy"` on the element it
    // generates; APIM accepts and ignores it, and so does Tollgate.
    r.raw('id');
    const backendId = r.string('backend-id');
    const baseUrl = r.string('base-url');
    if ((backendId === undefined) === (baseUrl === undefined)) throw r.fail(null, 'needs exactly one of backend-id and base-url');
    // sf-* attributes belong to Service Fabric backends, which Tollgate does not have.
    if (backendId !== undefined) {
      if (backendId.constant !== undefined && !env.backendIds.has(backendId.constant)) throw r.fail('backend-id', `names backend "${backendId.constant}", which is not defined under backends`);
      return {
        name: 'set-backend-service',
        run(ctx) {
          const id = backendId(ctx);
          // A value computed at run time is never quoted: it may be derived from a secret (docs/security.md).
          if (!env.services.backends.has(id)) throw new GatewayError('GW_ERR_BACKEND_NOT_CONFIGURED', 'set-backend-service: backend-id evaluated to a backend that is not defined.');
          ctx.backendId = id;
          ctx.backendUrl = null;
          ctx.backendUrlComputed = false;
        },
      };
    }
    const url = baseUrl as NonNullable<typeof baseUrl>;
    if (url.constant !== undefined && !URL.canParse(url.constant)) throw r.fail('base-url', `"${url.constant}" is not a URL`);
    const computed = url.constant === undefined;
    return {
      name: 'set-backend-service',
      run(ctx) {
        ctx.backendUrl = url(ctx);
        ctx.backendUrlComputed = computed;
      },
    };
  },
};
