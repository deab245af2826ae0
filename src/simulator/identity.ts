/**
 * @module
 * The identity side of the simulator, so that managed identity, OAuth2 and client-token checks
 * run offline: a managed-identity endpoint (App Service / Container Apps protocol, and IMDS), an
 * Entra-shaped OAuth2 token endpoint (client credentials), an OpenID configuration with its JWKS,
 * and a route that mints test client tokens. Tokens are RS256 JWTs signed with a key generated on
 * first use (so simulators that never issue a token never pay for RSA key generation); with
 * `requireEntra` the model routes accept only unexpired tokens issued here.
 */
import { createHash, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SimulatorHttpError } from './errors.ts';

export interface SimIdentityOptions {
  /** Tenant id in issuer and endpoint paths; default `11111111-2222-3333-4444-555555555555`. */
  readonly tenantId: string;
  /** Lifetime of the tokens this simulator issues, in seconds; default 3600. */
  readonly tokenLifetimeSeconds: number;
  /** The `X-IDENTITY-HEADER` value the managed-identity endpoint expects (App Service's IDENTITY_HEADER). */
  readonly identityHeader: string;
  /** OAuth2 clients `{ clientId: secret }`; when unset any client with a non-empty secret is accepted. */
  readonly oauthClients: Readonly<Record<string, string>> | undefined;
  /** Audience a bearer token needs on the model routes with `requireEntra`. */
  readonly entraAudience: string;
}

export const DEFAULT_TENANT_ID = '11111111-2222-3333-4444-555555555555';
export const DEFAULT_IDENTITY_HEADER = 'tollgate-sim-identity-header';
export const COGNITIVE_SERVICES = 'https://cognitiveservices.azure.com';
/** POST a JSON body (see `MintOptions`) to get a signed test client token. */
export const MINT_PATH = '/_sim/identity/token';
export const MSI_PATH = '/msi/token';
export const IMDS_PATH = '/metadata/identity/oauth2/token';

export interface MintOptions {
  audience?: string | string[];
  subject?: string;
  issuer?: string;
  /** Seconds from now; negative mints an expired token. Default: the simulator's token lifetime. */
  expiresInSeconds?: number;
  /** More claims (`roles`, `scp`, `appid`, `oid`, ...); they override the defaults. */
  claims?: Record<string, unknown>;
}

export interface IdentityCounts {
  managedIdentity: number;
  imds: number;
  oauth2: number;
  openIdConfig: number;
  jwks: number;
  minted: number;
}

export interface SimIdentityView {
  readonly tenantId: string;
  /** `iss` of the tokens issued here: `<url>/<tenant>/v2.0`. */
  readonly issuer: string;
  readonly openIdConfigUrl: string;
  readonly jwksUrl: string;
  /** OAuth2 token endpoint (client credentials). */
  readonly tokenUrl: string;
  /** Value for `IDENTITY_ENDPOINT` (App Service protocol). */
  readonly identityEndpoint: string;
  readonly identityHeader: string;
  /** Requests served per identity endpoint. */
  readonly counts: IdentityCounts;
  /** A signed client token, e.g. for `validate-jwt` tests. */
  mint(opts?: MintOptions): string;
  /** Signs from now on with a new key; the old key stays in the JWKS. */
  rotateKey(): void;
  /** Lifetime of the tokens issued from now on (e.g. seconds, to watch a gateway refresh them). */
  setTokenLifetime(seconds: number): void;
}

interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly jwk: Record<string, unknown>;
}

interface IdentityAnswer {
  readonly status: number;
  readonly body: unknown;
}

const MAX_KEYS = 8;

/**
 * Every simulator in a process signs with this key first, so a token one of them issues is
 * accepted by the others, as a token of one Entra tenant is by every resource in it (the
 * gateway's managed identity may be served by one simulator and the backends by others).
 */
let sharedKey: SigningKey | undefined;

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

export class SimIdentity {
  readonly #opts: SimIdentityOptions;
  #lifetime: number;
  readonly #baseUrl: () => string;
  readonly #now: () => number;
  readonly #keys: SigningKey[] = [];
  readonly counts: IdentityCounts = { managedIdentity: 0, imds: 0, oauth2: 0, openIdConfig: 0, jwks: 0, minted: 0 };

  constructor(opts: SimIdentityOptions, baseUrl: () => string, now: () => number) {
    this.#opts = opts;
    this.#lifetime = opts.tokenLifetimeSeconds;
    this.#baseUrl = baseUrl;
    this.#now = now;
  }

  get issuer(): string {
    return `${this.#baseUrl()}/${this.#opts.tenantId}/v2.0`;
  }

  view(): SimIdentityView {
    const base = this.#baseUrl();
    const tenant = this.#opts.tenantId;
    return {
      tenantId: tenant,
      issuer: this.issuer,
      openIdConfigUrl: `${base}/${tenant}/v2.0/.well-known/openid-configuration`,
      jwksUrl: `${base}/${tenant}/discovery/v2.0/keys`,
      tokenUrl: `${base}/${tenant}/oauth2/v2.0/token`,
      identityEndpoint: `${base}${MSI_PATH}`,
      identityHeader: this.#opts.identityHeader,
      counts: this.counts,
      mint: (o) => {
        this.counts.minted++;
        return this.#mintClient(o ?? {});
      },
      rotateKey: () => void this.#rotate(),
      setTokenLifetime: (seconds) => {
        if (!Number.isInteger(seconds) || seconds < 1 || seconds > 86_400) throw new RangeError('token lifetime must be 1 to 86400 seconds');
        this.#lifetime = seconds;
      },
    };
  }

  /** Answers an identity route, or returns undefined when `path` is not one. */
  route(method: string, path: string, query: URLSearchParams, headers: IncomingHttpHeaders, body: Buffer): IdentityAnswer | undefined {
    const tenant = `/${this.#opts.tenantId}`;
    if (method === 'GET' && path === MSI_PATH) return this.#appService(query, headers);
    if (method === 'GET' && path === IMDS_PATH) return this.#imds(query, headers);
    if (method === 'POST' && path === MINT_PATH) {
      this.counts.minted++;
      const opts = parseJsonObject(body) as MintOptions | undefined;
      if (opts === undefined) return oauthError(400, 'invalid_request', 'the body must be a JSON object (MintOptions)');
      return { status: 200, body: { access_token: this.#mintClient(opts), token_type: 'Bearer' } };
    }
    if (method === 'GET' && path === `${tenant}/v2.0/.well-known/openid-configuration`) {
      this.counts.openIdConfig++;
      const v = this.view();
      return {
        status: 200,
        body: {
          issuer: v.issuer,
          jwks_uri: v.jwksUrl,
          token_endpoint: v.tokenUrl,
          authorization_endpoint: `${this.#baseUrl()}${tenant}/oauth2/v2.0/authorize`,
          id_token_signing_alg_values_supported: ['RS256'],
          response_types_supported: ['code', 'id_token', 'token'],
          subject_types_supported: ['pairwise'],
          tenant_region_scope: 'SIM',
        },
      };
    }
    if (method === 'GET' && path === `${tenant}/discovery/v2.0/keys`) {
      this.counts.jwks++;
      this.#current();
      return { status: 200, body: { keys: this.#keys.map((k) => k.jwk) } };
    }
    if (method === 'POST' && path === `${tenant}/oauth2/v2.0/token`) return this.#clientCredentials(body);
    return undefined;
  }

  /**
   * Checks a bearer token on the model routes (`requireEntra`): signed here, unexpired, for the
   * configured audience. Throws the 401 a real Azure OpenAI resource would send.
   */
  checkBearer(headers: IncomingHttpHeaders): void {
    const m = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '');
    const reason = m === null ? 'no bearer token' : this.#verify(m[1] as string);
    if (reason === undefined) return;
    throw new SimulatorHttpError(401, `Access denied: ${reason}. This simulator requires an Entra ID bearer token it issued (--require-entra).`, {
      code: 'invalid_token',
    });
  }

  /** True when the request carries a bearer token `checkBearer` would accept. */
  acceptsBearer(headers: IncomingHttpHeaders): boolean {
    const m = /^Bearer\s+(\S+\.\S+\.\S+)$/i.exec(headers.authorization ?? '');
    return m !== null && this.#verify(m[1] as string) === undefined;
  }

  #appService(query: URLSearchParams, headers: IncomingHttpHeaders): IdentityAnswer {
    this.counts.managedIdentity++;
    if (headers['x-identity-header'] !== this.#opts.identityHeader) return oauthError(401, 'unauthorized_client', 'X-IDENTITY-HEADER is missing or wrong');
    const resource = query.get('resource');
    if (resource === null || resource === '') return oauthError(400, 'invalid_request', 'resource is required');
    const clientId = query.get('client_id') ?? query.get('clientid') ?? 'system-assigned';
    const { token, exp } = this.#issue(resource, clientId);
    return { status: 200, body: { access_token: token, expires_on: String(exp), resource, token_type: 'Bearer', client_id: clientId } };
  }

  #imds(query: URLSearchParams, headers: IncomingHttpHeaders): IdentityAnswer {
    this.counts.imds++;
    if (headers['metadata'] !== 'true') return oauthError(400, 'invalid_request', 'Required metadata header not specified');
    const resource = query.get('resource');
    if (resource === null || resource === '') return oauthError(400, 'invalid_request', 'resource is required');
    const clientId = query.get('client_id') ?? 'system-assigned';
    const { token, exp, iat } = this.#issue(resource, clientId);
    const life = String(exp - iat);
    return { status: 200, body: { access_token: token, expires_in: life, ext_expires_in: life, expires_on: String(exp), not_before: String(iat), resource, token_type: 'Bearer' } };
  }

  #clientCredentials(body: Buffer): IdentityAnswer {
    this.counts.oauth2++;
    const form = new URLSearchParams(body.toString('utf8'));
    if (form.get('grant_type') !== 'client_credentials') return oauthError(400, 'unsupported_grant_type', 'only client_credentials is supported');
    const clientId = form.get('client_id') ?? '';
    const secret = form.get('client_secret') ?? '';
    const assertion = form.get('client_assertion') ?? '';
    const known = this.#opts.oauthClients;
    const ok = clientId !== '' && (assertion !== '' || (secret !== '' && (known === undefined || known[clientId] === secret)));
    if (!ok) return oauthError(401, 'invalid_client', 'AADSTS7000215: Invalid client secret provided.');
    const scope = form.get('scope') ?? '';
    if (!scope.endsWith('/.default')) return oauthError(400, 'invalid_scope', 'AADSTS1002012: the scope must be <resource>/.default for client credentials');
    const { token, exp, iat } = this.#issue(scope.slice(0, -'/.default'.length), clientId);
    return { status: 200, body: { token_type: 'Bearer', expires_in: exp - iat, ext_expires_in: exp - iat, access_token: token } };
  }

  /** A token for an app identity (managed identity or client credentials). */
  #issue(audience: string, clientId: string): { token: string; exp: number; iat: number } {
    const iat = Math.floor(this.#now() / 1000);
    const exp = iat + this.#lifetime;
    // A stable object id per client, as Entra gives each service principal one.
    const oid = uuidFrom(`${this.#opts.tenantId}/${clientId}`);
    const token = this.#sign({ aud: audience, iss: this.issuer, iat, nbf: iat, exp, sub: oid, oid, tid: this.#opts.tenantId, appid: clientId, azp: clientId, idtyp: 'app', ver: '2.0', uti: randomUUID() });
    return { token, exp, iat };
  }

  #mintClient(o: MintOptions): string {
    const iat = Math.floor(this.#now() / 1000);
    const exp = iat + (o.expiresInSeconds ?? this.#lifetime);
    const sub = o.subject ?? 'sim-user';
    return this.#sign({
      aud: o.audience ?? 'api://tollgate',
      iss: o.issuer ?? this.issuer,
      iat: Math.min(iat, exp - 1),
      nbf: Math.min(iat, exp - 1),
      exp,
      sub,
      oid: uuidFrom(`${this.#opts.tenantId}/user/${sub}`),
      tid: this.#opts.tenantId,
      ver: '2.0',
      ...o.claims,
    });
  }

  #sign(payload: Record<string, unknown>): string {
    const key = this.#current();
    const input = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: key.kid }))}.${b64url(JSON.stringify(payload))}`;
    return `${input}.${b64url(sign('sha256', Buffer.from(input), key.privateKey))}`;
  }

  /** Undefined when valid, else why not. */
  #verify(token: string): string | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return 'the bearer token is not a JWT';
    let header: { alg?: unknown; kid?: unknown };
    let payload: { exp?: unknown; aud?: unknown; iss?: unknown };
    try {
      header = JSON.parse(Buffer.from(parts[0] as string, 'base64url').toString('utf8')) as typeof header;
      payload = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8')) as typeof payload;
    } catch {
      return 'the bearer token is not a JWT';
    }
    this.#current();
    const key = this.#keys.find((k) => k.kid === header.kid);
    if (header.alg !== 'RS256' || key === undefined) return 'the token was not issued by this simulator';
    if (!verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), key.publicKey, Buffer.from(parts[2] as string, 'base64url'))) return 'bad token signature';
    if (typeof payload.exp !== 'number' || payload.exp * 1000 <= this.#now()) return 'the token has expired';
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!aud.includes(this.#opts.entraAudience)) return `the token's audience is not ${this.#opts.entraAudience}`;
    return undefined;
  }

  #current(): SigningKey {
    if (this.#keys.length === 0) this.#keys.push((sharedKey ??= newKey()));
    return this.#keys.at(-1) as SigningKey;
  }

  #rotate(): SigningKey {
    this.#current();
    const key = newKey();
    this.#keys.push(key);
    if (this.#keys.length > MAX_KEYS) this.#keys.shift();
    return key;
  }
}

function newKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  const kid = createHash('sha256').update(JSON.stringify(jwk)).digest('base64url').slice(0, 16);
  return { kid, privateKey, publicKey, jwk: { ...jwk, kid, use: 'sig', alg: 'RS256', kty: 'RSA' } };
}

function oauthError(status: number, error: string, description: string): IdentityAnswer {
  return { status, body: { error, error_description: description } };
}

function parseJsonObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(body.length === 0 ? '{}' : body.toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function uuidFrom(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
