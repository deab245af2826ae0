/**
 * `<authentication-managed-identity resource="https://cognitiveservices.azure.com" [client-id] [output-token-variable-name] [ignore-error] />`:
 * parsed and validated. Until backend identity (OAuth2 / Entra ID / managed identity) lands, the
 * backend's configured `credentials` authenticate the request; a load-time notice says so.
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';

export const authenticationManagedIdentityDefinition: PolicyDefinition = {
  names: ['authentication-managed-identity'],
  sections: ['inbound', 'backend'],
  compile(r, _scope, env) {
    r.children([]);
    r.string('resource', true);
    r.string('client-id');
    r.literal('output-token-variable-name');
    r.bool('ignore-error', false);
    env.notice('<authentication-managed-identity> is not applied yet: the backend\'s configured credentials authenticate the request', r.el.pos);
    return { name: 'authentication-managed-identity', run: () => undefined };
  },
};
