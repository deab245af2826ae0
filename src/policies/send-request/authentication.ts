/**
 * Authentication children of `<send-request>`, as APIM allows them there:
 * `<authentication-managed-identity resource client-id output-token-variable-name ignore-error />`
 * puts a managed-identity token (from the identity service's cache) on the side request as
 * `Authorization: Bearer`, or only in the variable when `output-token-variable-name` is given;
 * `<authentication-basic username password />` sends `Authorization: Basic`. A token that cannot
 * be had fails the policy with 500 `GW_ERR_MANAGED_IDENTITY` unless `ignore-error="true"`, which
 * sends the request without one. `<authentication-certificate>` is accepted with a notice.
 * @module
 */
import type { RequestContext } from '../../core/context.ts';
import { GatewayError } from '../../core/errors.ts';
import type { PolicyEnv } from '../../policy-docs/compile.ts';
import type { ElementReader } from '../../policy-docs/reader.ts';

export const AUTHENTICATION_CHILDREN = ['authentication-managed-identity', 'authentication-basic', 'authentication-certificate'] as const;

/** Adds the child's credentials to the side request's headers (or to a variable). */
export type Authenticate = (ctx: RequestContext, headers: Record<string, string | string[]>) => Promise<void>;

export function compileAuthentication(c: ElementReader, env: PolicyEnv): Authenticate | undefined {
  const name = c.el.name;
  c.children([]);
  c.noText();
  if (name === 'authentication-basic') {
    const username = c.string('username', true);
    const password = c.string('password', true);
    return (ctx, headers) => {
      const user = username(ctx);
      // RFC 7617: a user-id with a colon cannot be sent.
      if (user.includes(':')) return Promise.reject(new GatewayError('GW_ERR_POLICY_FAILED', 'send-request: the authentication-basic username contains ":".'));
      headers['authorization'] = `Basic ${Buffer.from(`${user}:${password(ctx)}`, 'utf8').toString('base64')}`;
      return Promise.resolve();
    };
  }
  if (name === 'authentication-managed-identity') {
    const resource = c.string('resource', true);
    const clientId = c.string('client-id');
    const variable = c.literal('output-token-variable-name');
    if (variable !== undefined && variable.trim() === '') throw c.fail('output-token-variable-name', 'must not be empty');
    const ignoreError = c.bool('ignore-error', false);
    const identity = env.services.identity;
    const missing = identity.missingManagedIdentity();
    if (missing !== undefined) env.notice(`<authentication-managed-identity> in <send-request> needs a managed identity, but ${missing}; such side requests will fail`, c.el.pos);
    const logger = env.services.logger;
    return async (ctx, headers) => {
      const res = resource(ctx);
      const id = clientId?.(ctx);
      let token: string;
      try {
        token = await identity.managedIdentityToken(res, id === '' ? undefined : id);
      } catch (err) {
        if (ignoreError?.(ctx) === true) {
          logger.warn({ requestId: ctx.requestId, resource: res, err: err instanceof Error ? err.message : String(err) }, 'send-request: managed identity token unavailable; sending without it (ignore-error)');
          return;
        }
        throw new GatewayError('GW_ERR_MANAGED_IDENTITY', `Could not obtain a managed identity token for ${res}.`, { cause: err });
      }
      if (variable !== undefined) ctx.variables.set(variable, token);
      else headers['authorization'] = `Bearer ${token}`;
    };
  }
  // authentication-certificate: client certificates are not configurable in Tollgate yet.
  for (const a of c.el.attrs.keys()) c.raw(a);
  env.notice(`<${name}> inside <send-request> is accepted but not applied yet`, c.el.pos);
  return undefined;
}
