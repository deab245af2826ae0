/**
 * `<validate-azure-ad-token tenant-id="..." header-name="Authorization" failed-validation-httpcode="401"
 *   failed-validation-error-message="..." output-token-variable-name="jwt">` with
 * `<client-application-ids>`, `<backend-application-ids>`, `<audiences>` and `<required-claims>`:
 * the request must carry a valid Microsoft Entra ID token of that tenant. Keys and issuer come from
 * the tenant's OpenID configuration at the Entra authority (`identity.authorityHost`, default
 * https://login.microsoftonline.com; the simulator plays it offline); v1 tokens
 * (`https://sts.windows.net/<tenant>/`) are accepted too. A backend application id allows the
 * audiences `<id>` and `api://<id>`; a client application id must match `azp` (v2) or `appid` (v1).
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import type { Dyn } from '../../policy-docs/values.ts';
import { Jwt } from '../../expressions/jwt.ts';
import { fail, verifyJwt, type Failure } from '../validate-jwt/check.ts';
import { evalClaims, failureOf, requiredClaims, textList, tokenFromHeader } from '../validate-jwt/index.ts';
import { readDecryptionKeys, type DecryptionKey } from '../validate-jwt/decryption.ts';

export const validateAzureAdTokenDefinition: PolicyDefinition = {
  names: ['validate-azure-ad-token'],
  sections: ['inbound'],
  compile(r, _scope, env) {
    r.noText();
    const tenant = (r.literal('tenant-id', true) as string).trim();
    if (!/^[A-Za-z0-9.-]+$/.test(tenant)) throw r.fail('tenant-id', 'must be a tenant id (GUID) or a tenant domain');
    const header = (r.literal('header-name') ?? 'Authorization').toLowerCase();
    const failure = failureOf(r);
    const variable = r.literal('output-token-variable-name');
    let clients: Array<Dyn<string>> = [];
    let backends: Array<Dyn<string>> = [];
    let audiences: Array<Dyn<string>> = [];
    let claims: ReturnType<typeof requiredClaims> = [];
    let decryptionKeys: DecryptionKey[] | undefined;
    for (const c of r.children(['client-application-ids', 'backend-application-ids', 'audiences', 'required-claims', 'decryption-keys'])) {
      if (c.name === 'client-application-ids') clients = textList(r, c, 'application-id');
      else if (c.name === 'backend-application-ids') backends = textList(r, c, 'application-id');
      else if (c.name === 'audiences') audiences = textList(r, c, 'audience');
      else if (c.name === 'required-claims') claims = requiredClaims(r, c);
      else decryptionKeys = readDecryptionKeys(c);
    }
    const services = env.services;
    const issuerKeys = services.identity.keys.for(`${services.entraAuthorityHost}/${encodeURIComponent(tenant)}/v2.0/.well-known/openid-configuration`);
    const v1Issuer = `https://sts.windows.net/${tenant}/`;
    return {
      name: 'validate-azure-ad-token',
      run: async function validateAzureAdToken(ctx): Promise<void> {
        const f: Failure = { status: failure.status(ctx), message: failure.message?.(ctx) };
        const token = tokenFromHeader(ctx.request.headers[header], 'Bearer');
        if (token === undefined || token === '') throw fail(f, 'Azure AD JWT not present.', true);
        const allowedClients = clients.map((c) => c(ctx));
        const aud = [...audiences.map((a) => a(ctx)), ...backends.flatMap((b) => [b(ctx), `api://${b(ctx)}`])];
        const verified = await verifyJwt(
          token,
          {
            openId: [issuerKeys],
            staticKeys: null,
            issuers: [v1Issuer],
            audiences: aud,
            requiredClaims: evalClaims(ctx, claims),
            requireExpirationTime: true,
            requireSignedTokens: true,
            clockSkewSeconds: 0,
            decryptionKeys,
            extra: (p) => {
              if (allowedClients.length === 0) return undefined;
              const client = typeof p['azp'] === 'string' ? p['azp'] : p['appid'];
              return typeof client === 'string' && allowedClients.includes(client) ? undefined : 'The client application is not allowed.';
            },
          },
          f,
          services.clock(),
        );
        if (variable !== undefined) ctx.variables.set(variable, new Jwt(verified.header, verified.payload));
      },
    };
  },
};
