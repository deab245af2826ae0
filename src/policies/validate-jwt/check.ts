/**
 * The token check shared by `validate-jwt` and `validate-azure-ad-token`, done with `jose`:
 * signature (keys from OpenID configurations and/or keys written in the document), `alg: none`
 * refused unless `require-signed-tokens="false"`, expiry with clock skew, audiences, issuers and
 * required claims. Every failure becomes one coded error with a message saying what was wrong
 * (or the document's `failed-validation-error-message`) and the document's status.
 * @module
 */
import { createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify, UnsecuredJWT, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { GatewayError } from '../../core/errors.ts';
import type { IssuerKeys } from '../../identity/openid-keys.ts';
import { decryptToken, isEncrypted, type DecryptionKey } from './decryption.ts';

export interface RequiredClaim {
  readonly name: string;
  readonly match: 'all' | 'any';
  readonly separator: string | undefined;
  readonly values: readonly string[];
}

export interface JwtRules {
  /** OpenID configurations whose keys (and issuers) are trusted. */
  readonly openId: readonly IssuerKeys[];
  /** Keys written in the document (`issuer-signing-keys`). */
  readonly staticKeys: JSONWebKeySet | null;
  readonly issuers: readonly string[];
  readonly audiences: readonly string[];
  readonly requiredClaims: readonly RequiredClaim[];
  readonly requireExpirationTime: boolean;
  readonly requireSignedTokens: boolean;
  readonly clockSkewSeconds: number;
  /** `<decryption-keys>`: encrypted tokens are decrypted with these first. */
  readonly decryptionKeys?: readonly DecryptionKey[] | undefined;
  /** Extra check on the verified claims (client application ids); returns why it fails. */
  readonly extra?: (payload: JWTPayload) => string | undefined;
}

export interface Failure {
  readonly status: number;
  /** Replaces every message when set (`failed-validation-error-message`). */
  readonly message: string | undefined;
}

/** Asymmetric algorithms for keys from a JWKS; HMAC only for keys written in the document. */
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const SYMMETRIC = ['HS256', 'HS384', 'HS512'];

export function fail(failure: Failure, message: string, missing = false, cause?: unknown): GatewayError {
  return new GatewayError(missing ? 'GW_ERR_JWT_MISSING' : 'GW_ERR_JWT_INVALID', failure.message ?? message, { status: failure.status, ...(cause !== undefined && { cause }) });
}

/** Verifies `token` against `rules`; returns its claims or throws the coded failure. */
export async function verifyJwt(token: string, rules: JwtRules, failure: Failure, now: number): Promise<{ header: Record<string, unknown>; payload: JWTPayload }> {
  if (isEncrypted(token)) {
    if (rules.decryptionKeys === undefined || rules.decryptionKeys.length === 0) throw fail(failure, 'JWT is encrypted and no decryption keys are configured.');
    try {
      token = await decryptToken(token, rules.decryptionKeys);
    } catch (err) {
      throw fail(failure, 'JWT could not be decrypted.', false, err);
    }
  }
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(token);
  } catch (err) {
    throw fail(failure, 'JWT is malformed.', false, err);
  }
  const issuers = [...rules.issuers];
  for (const source of rules.openId) {
    try {
      issuers.push(await source.issuer());
    } catch (err) {
      throw fail(failure, 'JWT could not be validated: the issuer\'s signing keys are unavailable.', false, err);
    }
  }
  const options = {
    ...(issuers.length > 0 && { issuer: issuers }),
    ...(rules.audiences.length > 0 && { audience: [...rules.audiences] }),
    clockTolerance: rules.clockSkewSeconds,
    currentDate: new Date(now),
    requiredClaims: rules.requireExpirationTime ? ['exp'] : [],
  };
  let payload: JWTPayload;
  try {
    if (header['alg'] === 'none') {
      if (rules.requireSignedTokens) throw fail(failure, 'JWT is not signed.');
      payload = UnsecuredJWT.decode(token, options).payload;
    } else if (typeof header['alg'] === 'string' && SYMMETRIC.includes(header['alg'])) {
      payload = await verifyWithSecrets(token, secretsFor(rules.staticKeys, header['kid']), { ...options, algorithms: SYMMETRIC });
    } else {
      payload = (await jwtVerify(token, keyResolver(rules), { ...options, algorithms: ASYMMETRIC })).payload;
    }
  } catch (err) {
    if (GatewayError.is(err)) throw err;
    throw fail(failure, reasonOf(err), false, err);
  }
  for (const claim of rules.requiredClaims) {
    if (!claimMatches(payload[claim.name], claim)) throw fail(failure, `Required claim '${claim.name}' is missing or has a value that is not allowed.`);
  }
  const extra = rules.extra?.(payload);
  if (extra !== undefined) throw fail(failure, extra);
  return { header, payload };
}

/**
 * The document's symmetric keys a token may be signed with: the one its `kid` names, else all.
 * (jose's JWKS resolvers take public keys only, so HMAC keys are tried here, each at most once.)
 */
function secretsFor(keys: JSONWebKeySet | null, kid: unknown): Uint8Array[] {
  const oct = (keys?.keys ?? []).filter((k) => k.kty === 'oct' && typeof k.k === 'string');
  const named = oct.filter((k) => k.kid !== undefined && k.kid === kid);
  return (named.length > 0 ? named : oct).map((k) => new Uint8Array(Buffer.from(k.k as string, 'base64url')));
}

async function verifyWithSecrets(token: string, secrets: readonly Uint8Array[], options: JWTVerifyOptions): Promise<JWTPayload> {
  if (secrets.length === 0) throw new errors.JWKSNoMatchingKey();
  let last: unknown;
  for (const secret of secrets) {
    try {
      return (await jwtVerify(token, secret, options)).payload;
    } catch (err) {
      // Only a signature mismatch means "try the next key"; an expired or misaddressed token is that whatever the key.
      if (!(err instanceof errors.JWSSignatureVerificationFailed)) throw err;
      last = err;
    }
  }
  throw last;
}

function keyResolver(rules: JwtRules): JWTVerifyGetKey {
  const sources: JWTVerifyGetKey[] = [];
  const publicKeys = rules.staticKeys?.keys.filter((k) => k.kty !== 'oct') ?? [];
  if (publicKeys.length > 0) sources.push(createLocalJWKSet({ keys: publicKeys }));
  for (const o of rules.openId) sources.push(o.getKey);
  if (sources.length === 1) return sources[0] as JWTVerifyGetKey;
  return async (header, token) => {
    let last: unknown = new errors.JWKSNoMatchingKey();
    for (const s of sources) {
      try {
        return await s(header, token);
      } catch (err) {
        last = err;
      }
    }
    throw last;
  };
}

function reasonOf(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'JWT has expired.';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return 'JWT audience is not allowed.';
    if (err.claim === 'iss') return 'JWT issuer is not allowed.';
    if (err.claim === 'nbf') return 'JWT is not yet valid.';
    if (err.claim === 'exp') return 'JWT has no expiration time.';
    return `JWT claim '${err.claim}' is not valid.`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'JWT signature is invalid.';
  if (err instanceof errors.JWKSNoMatchingKey) return 'JWT signing key was not found.';
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return 'JWT signing algorithm is not allowed.';
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'JWT is malformed.';
  if (err instanceof errors.JOSEError) return 'JWT is not valid.';
  return 'JWT could not be validated: the issuer\'s signing keys are unavailable.';
}

function claimMatches(raw: unknown, claim: RequiredClaim): boolean {
  if (raw === undefined || raw === null) return false;
  const values = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => {
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    return claim.separator === undefined ? [s] : s.split(claim.separator).map((x) => x.trim());
  });
  if (claim.values.length === 0) return true;
  return claim.match === 'all' ? claim.values.every((v) => values.includes(v)) : claim.values.some((v) => values.includes(v));
}
