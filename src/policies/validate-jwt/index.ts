/**
 * `<validate-jwt header-name="Authorization" | query-parameter-name="t" | token-value="@(...)"
 *   failed-validation-httpcode="401" failed-validation-error-message="..." require-scheme="Bearer"
 *   require-expiration-time="true" require-signed-tokens="true" clock-skew="0" output-token-variable-name="jwt">`
 * with `<openid-config url>`, `<issuer-signing-keys><key>`, `<audiences>`, `<issuers>` and
 * `<required-claims><claim name match separator><value>`: the request must carry a valid token.
 * OpenID configurations and their JWKS come from the identity service's shared cache (fetched once,
 * refreshed after an hour, refetched on an unknown `kid` at most every 30 s). Encrypted tokens are
 * decrypted with `<decryption-keys>` (decryption.ts); `certificate-id` keys are refused at load:
 * there is no certificate store. A cookie carries a token through `token-value`, e.g. an expression over the Cookie header.
 * @module
 */
import type { RequestContext } from '../../core/context.ts';
import { Jwt } from '../../expressions/jwt.ts';
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import type { PolicyElement } from '../../policy-docs/element.ts';
import { ElementReader } from '../../policy-docs/reader.ts';
import type { Dyn } from '../../policy-docs/values.ts';
import { fail, verifyJwt, type Failure, type JwtRules, type RequiredClaim } from './check.ts';
import { readDecryptionKeys, type DecryptionKey } from './decryption.ts';
import type { JSONWebKeySet, JWK } from 'jose';

/** Reads `<name><child>text</child>...</name>` lists (audiences, issuers, application ids). */
export function textList(r: ElementReader, parent: PolicyElement, child: string, ownAttrsRead = false): Array<Dyn<string>> {
  const out: Array<Dyn<string>> = [];
  const p = new ElementReader(parent);
  for (const c of p.children([child])) {
    const cr = new ElementReader(c);
    const t = cr.text();
    cr.done();
    if (t === undefined) throw r.fail(null, `<${child}> inside <${parent.name}> must not be empty`);
    out.push(t);
  }
  p.noText();
  // A <claim>'s own attributes are read by its caller.
  if (!ownAttrsRead) p.done();
  return out;
}

export function requiredClaims(r: ElementReader, el: PolicyElement): Array<{ name: string; match: 'all' | 'any'; separator: string | undefined; values: Array<Dyn<string>> }> {
  const out: Array<{ name: string; match: 'all' | 'any'; separator: string | undefined; values: Array<Dyn<string>> }> = [];
  const p = new ElementReader(el);
  for (const c of p.children(['claim'])) {
    const cr = new ElementReader(c);
    const name = cr.literal('name', true) as string;
    const match = cr.oneOf('match', ['all', 'any'] as const, 'all') ?? 'all';
    const separator = cr.literal('separator');
    cr.noText();
    cr.done();
    out.push({ name, match, separator: separator === '' ? undefined : separator, values: textList(r, c, 'value', true) });
  }
  p.noText();
  p.done();
  return out;
}

export function evalClaims(ctx: RequestContext, claims: ReturnType<typeof requiredClaims>): RequiredClaim[] {
  return claims.map((c) => ({ name: c.name, match: c.match, separator: c.separator, values: c.values.map((v) => v(ctx)) }));
}

export function failureOf(r: ElementReader): { status: Dyn<number>; message: Dyn<string> | undefined } {
  const status = r.int('failed-validation-httpcode', { min: 400, max: 599, fallback: 401 }) as Dyn<number>;
  return { status, message: r.string('failed-validation-error-message') };
}

function signingKeys(r: ElementReader, el: PolicyElement): JSONWebKeySet {
  const keys: JWK[] = [];
  const p = new ElementReader(el);
  for (const k of p.children(['key'])) {
    const kr = new ElementReader(k);
    const id = kr.literal('id');
    if (kr.literal('certificate-id') !== undefined) throw kr.fail('certificate-id', 'is not supported: Tollgate has no certificate store (give the key as n/e or base64 text)');
    const n = kr.literal('n');
    const e = kr.literal('e');
    const text = k.text?.value.trim();
    kr.done();
    if (n !== undefined || e !== undefined) {
      if (n === undefined || e === undefined) throw kr.fail(null, 'needs both n (modulus) and e (exponent)');
      keys.push({ kty: 'RSA', n: toB64url(n), e: toB64url(e), ...(id !== undefined && { kid: id }) });
    } else {
      if (text === undefined || text === '' || !/^[A-Za-z0-9+/=_-]+$/.test(text)) throw kr.fail(null, 'must hold a base64-encoded symmetric key, or n and e attributes');
      keys.push({ kty: 'oct', k: toB64url(text), ...(id !== undefined && { kid: id }) });
    }
  }
  p.done();
  if (keys.length === 0) throw r.fail(null, '<issuer-signing-keys> lists no <key>');
  return { keys };
}

const toB64url = (s: string): string => s.trim().replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

export const validateJwtDefinition: PolicyDefinition = {
  names: ['validate-jwt'],
  sections: ['inbound'],
  compile(r, _scope, env) {
    r.noText();
    const header = r.literal('header-name');
    const query = r.literal('query-parameter-name');
    const value = r.string('token-value');
    if ([header, query, value].filter((x) => x !== undefined).length !== 1) throw r.fail(null, 'needs exactly one of header-name, query-parameter-name and token-value');
    const scheme = r.literal('require-scheme')?.trim();
    const failure = failureOf(r);
    const requireExp = r.bool('require-expiration-time', true) as Dyn<boolean>;
    const requireSigned = r.bool('require-signed-tokens', true) as Dyn<boolean>;
    const skew = r.int('clock-skew', { min: 0, max: 86_400, fallback: 0 }) as Dyn<number>;
    const variable = r.literal('output-token-variable-name');
    const identity = env.services.identity;
    const openId: JwtRules['openId'][number][] = [];
    let staticKeys: JSONWebKeySet | null = null;
    let audiences: Array<Dyn<string>> = [];
    let issuers: Array<Dyn<string>> = [];
    let claims: ReturnType<typeof requiredClaims> = [];
    let decryptionKeys: DecryptionKey[] | undefined;
    for (const c of r.children(['openid-config', 'issuer-signing-keys', 'decryption-keys', 'audiences', 'issuers', 'required-claims'])) {
      if (c.name === 'openid-config') {
        const cr = new ElementReader(c);
        const url = cr.literal('url', true) as string;
        cr.noText();
        cr.done();
        let parsed: URL;
        try {
          parsed = new URL(url);
        } catch {
          throw cr.fail('url', 'must be an absolute http(s) URL');
        }
        if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw cr.fail('url', 'must be an absolute http(s) URL');
        openId.push(identity.keys.for(parsed.href));
      } else if (c.name === 'issuer-signing-keys') staticKeys = signingKeys(r, c);
      else if (c.name === 'decryption-keys') decryptionKeys = readDecryptionKeys(c);
      else if (c.name === 'audiences') audiences = textList(r, c, 'audience');
      else if (c.name === 'issuers') issuers = textList(r, c, 'issuer');
      else claims = requiredClaims(r, c);
    }
    if (openId.length === 0 && staticKeys === null) throw r.fail(null, 'needs <openid-config url> or <issuer-signing-keys> to check signatures against');
    const keys = staticKeys;
    const clock = env.services.clock;
    const lower = header?.toLowerCase();
    return {
      name: 'validate-jwt',
      run: async function validateJwt(ctx): Promise<void> {
        const f: Failure = { status: failure.status(ctx), message: failure.message?.(ctx) };
        let token: string | undefined;
        if (lower !== undefined) token = tokenFromHeader(ctx.request.headers[lower], scheme);
        else if (query !== undefined) token = new URLSearchParams(ctx.request.query.slice(1)).get(query) ?? undefined;
        else token = value?.(ctx);
        if (token === undefined || token.trim() === '') throw fail(f, scheme !== undefined && lower !== undefined && ctx.request.headers[lower] !== undefined ? `JWT not present: the ${header} header must use the ${scheme} scheme.` : 'JWT not present.', true);
        const rules: JwtRules = {
          openId,
          staticKeys: keys,
          issuers: issuers.map((i) => i(ctx)),
          audiences: audiences.map((a) => a(ctx)),
          requiredClaims: evalClaims(ctx, claims),
          requireExpirationTime: requireExp(ctx),
          requireSignedTokens: requireSigned(ctx),
          clockSkewSeconds: skew(ctx),
          decryptionKeys,
        };
        const verified = await verifyJwt(token.trim(), rules, f, clock());
        if (variable !== undefined) ctx.variables.set(variable, new Jwt(verified.header, verified.payload));
      },
    };
  },
};

/** The token in a header value: after `scheme` when one is required, else after an optional `Bearer`. */
export function tokenFromHeader(raw: string | string[] | undefined, scheme: string | undefined): string | undefined {
  const v = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (v === undefined || v === '') return undefined;
  if (scheme !== undefined) {
    if (v.length <= scheme.length || v.slice(0, scheme.length).toLowerCase() !== scheme.toLowerCase() || !/\s/.test(v[scheme.length] ?? '')) return undefined;
    return v.slice(scheme.length).trim();
  }
  return /^bearer\s/i.test(v) ? v.slice(7).trim() : v;
}
