/**
 * `<authentication-managed-identity resource="https://cognitiveservices.azure.com" [client-id] [output-token-variable-name] [ignore-error] />`:
 * gets a token for `resource` from the managed identity of the environment the gateway runs in
 * (user-assigned when `client-id` is given), from the identity service's cache (refreshed ahead of
 * expiry, one fetch shared by concurrent requests). Without `output-token-variable-name` the token
 * goes to the backend as `Authorization: Bearer`, replacing the backend's configured credentials
 * for this request; with it, the token is only stored in that variable (APIM's "set the header
 * yourself" form). When no token can be had the request fails (on-error runs) unless
 * `ignore-error="true"`, which continues without one.
 * @module
 */
import type { RequestContext } from '../../core/context.ts';
import type { PolicyDefinition, PolicyEnv } from '../../policy-docs/compile.ts';
import type { ElementReader } from '../../policy-docs/reader.ts';
import { GatewayError } from '../../core/errors.ts';

export interface ManagedIdentityAuth {
  /** The token, or undefined when it cannot be had and `ignore-error` is true (logged). */
  token(ctx: RequestContext): Promise<string | undefined>;
  /** `output-token-variable-name`, when given. */
  readonly variable: string | undefined;
}

/**
 * Reads the element's attributes (`resource`, `client-id`, `output-token-variable-name`,
 * `ignore-error`) for the policy and for `<send-request>`'s child of the same name; `where` names
 * the place in the load notice and the log line.
 */
export function readManagedIdentity(r: ElementReader, env: PolicyEnv, where: string): ManagedIdentityAuth {
  r.children([]);
  r.noText();
  const resource = r.string('resource', true);
  const clientId = r.string('client-id');
  const variable = r.literal('output-token-variable-name');
  if (variable !== undefined && variable.trim() === '') throw r.fail('output-token-variable-name', 'must not be empty');
  const ignoreError = r.bool('ignore-error', false);
  const identity = env.services.identity;
  const missing = identity.missingManagedIdentity();
  if (missing !== undefined) env.notice(`${where} needs a managed identity, but ${missing}; requests through this policy will fail`, r.el.pos);
  const logger = env.services.logger;
  return {
    variable,
    async token(ctx) {
      const res = resource(ctx);
      const id = clientId?.(ctx);
      try {
        return await identity.managedIdentityToken(res, id === '' ? undefined : id);
      } catch (err) {
        if (ignoreError?.(ctx) === true) {
          logger.warn({ requestId: ctx.requestId, resource: res, policy: where, err: err instanceof Error ? err.message : String(err) }, 'managed identity token unavailable; continuing (ignore-error)');
          return undefined;
        }
        throw new GatewayError('GW_ERR_MANAGED_IDENTITY', `Could not obtain a managed identity token for ${res}.`, { cause: err });
      }
    },
  };
}

export const authenticationManagedIdentityDefinition: PolicyDefinition = {
  names: ['authentication-managed-identity'],
  // APIM's reference lists inbound; published documents also fetch a token for a side request in
  // outbound (with output-token-variable-name), and APIM runs them, so every section is allowed.
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  compile(r, scope, env) {
    const auth = readManagedIdentity(r, env, '<authentication-managed-identity>');
    const variable = auth.variable;
    if (variable === undefined && (scope.section === 'outbound' || scope.section === 'on-error')) {
      throw r.fail(null, `in the ${scope.section} section needs output-token-variable-name: the request to the backend has already been sent`);
    }
    return {
      name: 'authentication-managed-identity',
      run: async function authenticationManagedIdentity(ctx): Promise<void> {
        const token = await auth.token(ctx);
        if (token === undefined) return;
        if (variable !== undefined) ctx.variables.set(variable, token);
        else ctx.backendToken = token;
      },
    };
  },
};
