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
import { readManagedIdentity } from '../authentication-managed-identity/index.ts';
import type { PolicyEnv } from '../../policy-docs/compile.ts';
import type { ElementReader } from '../../policy-docs/reader.ts';

export const AUTHENTICATION_CHILDREN = ['authentication-managed-identity', 'authentication-basic', 'authentication-certificate'] as const;

/** Adds the child's credentials to the side request's headers (or to a variable). */
export type Authenticate = (ctx: RequestContext, headers: Record<string, string | string[]>) => Promise<void>;

export function compileAuthentication(c: ElementReader, env: PolicyEnv): Authenticate | undefined {
  const name = c.el.name;
  if (name === 'authentication-basic') {
    c.children([]);
    c.noText();
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
    const auth = readManagedIdentity(c, env, '<authentication-managed-identity> in <send-request>');
    return async (ctx, headers) => {
      const token = await auth.token(ctx);
      if (token === undefined) return;
      if (auth.variable !== undefined) ctx.variables.set(auth.variable, token);
      else headers['authorization'] = `Bearer ${token}`;
    };
  }
  // authentication-certificate: client certificates are not configurable in Tollgate yet.
  c.children([]);
  c.noText();
  for (const a of c.el.attrs.keys()) c.raw(a);
  env.notice(`<${name}> inside <send-request> is accepted but not applied yet`, c.el.pos);
  return undefined;
}
