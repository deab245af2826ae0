/**
 * `<get-authorization-context provider-id="github" authorization-id="mcp" context-variable-name="auth" [identity-type="managed"] [ignore-error] />`:
 * APIM's credential manager. Puts an `Authorization` (`AccessToken`, `Claims`) for the configured
 * authorization `authorizations.<provider-id>.<authorization-id>` into the variable, for a later
 * `set-header` to send (`((Authorization)context.Variables["auth"]).AccessToken`). Tokens come from
 * the identity service's cache: fetched once, refreshed ahead of expiry, one fetch shared by
 * concurrent requests. When no token can be had the request fails with 500 and on-error runs,
 * unless `ignore-error="true"`, which sets the variable to null and continues (as in APIM).
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import { GatewayError } from '../../core/errors.ts';
import { AuthorizationValue } from '../../expressions/authorization.ts';
import type { AuthorizationCredentials } from '../../identity/service.ts';
import { didYouMean } from '../../util/did-you-mean.ts';

const NONE: ReadonlyMap<string, ReadonlyMap<string, AuthorizationCredentials>> = new Map();

export const getAuthorizationContextDefinition: PolicyDefinition = {
  names: ['get-authorization-context'],
  sections: ['inbound'],
  compile(r, _scope, env) {
    r.children([]);
    r.noText();
    const provider = r.string('provider-id', true);
    const authorization = r.string('authorization-id', true);
    const variable = r.literal('context-variable-name', true) as string;
    if (variable.trim() === '') throw r.fail('context-variable-name', 'must not be empty');
    const identityType = r.oneOf('identity-type', ['managed', 'jwt'], 'managed');
    const identity = r.raw('identity');
    // APIM checks a user's token against the authorization's access policy; Tollgate's authorizations
    // have none, and accepting a token unchecked would hand any caller the stored credential.
    if (identityType === 'jwt' || identity !== undefined) throw r.fail(identity === undefined ? 'identity-type' : 'identity', 'is not supported: Tollgate authorizations have no per-user access policies; use identity-type="managed" (the gateway\'s own access)');
    const ignoreError = r.bool('ignore-error', false);
    const configured = env.services.authorizations ?? NONE;
    // Constant ids are checked now, so a typo is a load error instead of a 500 on every request.
    const p = provider.constant;
    if (p !== undefined) {
      const ids = configured.get(p);
      if (ids === undefined) throw r.fail('provider-id', `names provider "${p}", which is not defined under authorizations${didYouMean(p, configured.keys())}`);
      const a = authorization.constant;
      if (a !== undefined && !ids.has(a)) throw r.fail('authorization-id', `names authorization "${a}", which is not defined under authorizations.${p}${didYouMean(a, ids.keys())}`);
    }
    const tokens = env.services.identity;
    const logger = env.services.logger;
    return {
      name: 'get-authorization-context',
      run: async function getAuthorizationContext(ctx): Promise<void> {
        const p = provider(ctx);
        const a = authorization(ctx);
        let value: AuthorizationValue;
        try {
          const cfg = configured.get(p)?.get(a);
          if (cfg === undefined) throw new Error('no such authorization is configured');
          const t = await tokens.authorizationToken(p, a, cfg);
          value = new AuthorizationValue(t.token, t.claims ?? {});
        } catch (err) {
          // The ids may come from the request: logged (bounded), never echoed to the client.
          const fields = { requestId: ctx.requestId, provider: p.slice(0, 128), authorization: a.slice(0, 128), err: err instanceof Error ? err.message : String(err) };
          if (ignoreError?.(ctx) === true) {
            logger.warn(fields, 'authorization context unavailable; continuing with null (ignore-error)');
            ctx.variables.set(variable, null);
            return;
          }
          logger.warn(fields, 'authorization context unavailable');
          throw new GatewayError('GW_ERR_AUTHORIZATION_CONTEXT', 'Could not obtain the authorization context.', { cause: err });
        }
        ctx.variables.set(variable, value);
      },
    };
  },
};
