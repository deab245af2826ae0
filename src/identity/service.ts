/**
 * The gateway's identity: tokens it obtains for itself (managed identity, OAuth2 client
 * credentials), cached and refreshed ahead of expiry, and the issuers' keys it checks client
 * tokens with. One per process: it outlives configuration reloads, so a reload neither refetches
 * tokens nor keys. Tokens never reach a log line: errors and log fields carry the resource, the
 * client id and the endpoint, never a token or a secret.
 * @module
 */
import { hash } from 'node:crypto';
import { Agent } from 'undici';
import type { Logger } from '../observability/logger.ts';
import { ManagedIdentityTokens, NO_IDENTITY_HINT, identitySource, type IdentitySource } from './managed-identity.ts';
import { fetchClientCredentialsToken, fetchRefreshedToken, type OAuth2ClientCredentials, type OAuth2RefreshToken } from './oauth2.ts';
import { OpenIdKeys } from './openid-keys.ts';
import { TokenCache, type FetchedToken } from './token-cache.ts';

/** A credential-manager authorization (config `authorizations.<provider>.<id>`): exactly one source. */
export interface AuthorizationCredentials {
  readonly clientCredentials?: OAuth2ClientCredentials | undefined;
  readonly refreshToken?: OAuth2RefreshToken | undefined;
  /** A static token (from a secret named value). */
  readonly token?: string | undefined;
}

/** Rotated refresh tokens kept at most (one per configured refresh-token authorization in practice). */
const MAX_REFRESH_TOKENS = 1000;

const tag = (secret: string): string => hash('sha256', secret, 'hex').slice(0, 8);

export interface IdentityServiceOptions {
  readonly clock?: () => number;
  readonly logger?: Logger;
  /** The environment the identity source is detected from (the SDK reads `process.env` itself). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Entra ID authority for `validate-azure-ad-token`; default AZURE_AUTHORITY_HOST or https://login.microsoftonline.com. */
  readonly authorityHost?: string;
  /** Replaces the managed-identity token fetch (tests of the cache itself). */
  readonly fetchManagedIdentity?: (resource: string, clientId: string | undefined) => Promise<{ token: string; expiresAt: number }>;
}

export class IdentityService {
  readonly tokens: TokenCache;
  readonly keys: OpenIdKeys;
  readonly source: IdentitySource;
  readonly authorityHost: string;
  readonly #mi: ManagedIdentityTokens;
  readonly #fetchMi: (resource: string, clientId: string | undefined) => Promise<{ token: string; expiresAt: number }>;
  readonly #dispatcher: Agent;
  readonly #clock: () => number;
  /** The latest refresh token per authorization, when the endpoint rotated it. */
  readonly #refreshTokens = new Map<string, string>();

  constructor(o: IdentityServiceOptions = {}) {
    const env = o.env ?? process.env;
    this.#clock = o.clock ?? Date.now;
    this.source = identitySource(env);
    this.authorityHost = (o.authorityHost ?? env['AZURE_AUTHORITY_HOST'] ?? 'https://login.microsoftonline.com').replace(/\/+$/, '');
    const logger = o.logger;
    this.tokens = new TokenCache({
      clock: this.#clock,
      onRefreshError: (key, err) => logger?.warn({ token: key, err: err instanceof Error ? err.message : String(err) }, 'background token refresh failed; the current token is used until it expires'),
    });
    this.#dispatcher = new Agent({ keepAliveTimeout: 4_000, connections: 16, connect: { timeout: 5_000 } });
    this.keys = new OpenIdKeys({
      dispatcher: this.#dispatcher,
      clock: this.#clock,
      onBackgroundError: (url, err) => logger?.warn({ url, err: err instanceof Error ? err.message : String(err) }, 'OpenID configuration refresh failed; the cached keys stay in use'),
    });
    this.#mi = new ManagedIdentityTokens();
    this.#fetchMi = o.fetchManagedIdentity ?? ((resource, clientId) => this.#mi.fetch(resource, clientId));
  }

  /** Why a managed identity will not be found here, or undefined when the environment names one. */
  missingManagedIdentity(): string | undefined {
    return this.source === 'none' ? NO_IDENTITY_HINT : undefined;
  }

  /** A managed-identity access token for `resource` (user-assigned when `clientId` is set). */
  managedIdentityToken(resource: string, clientId?: string): Promise<string> {
    return this.tokens.get(`managed-identity ${resource} ${clientId ?? 'system-assigned'}`, () => this.#fetchMi(resource, clientId));
  }

  /** An OAuth2 client-credentials access token. */
  oauth2Token(cfg: OAuth2ClientCredentials): Promise<string> {
    // The secret is part of the key (hashed) so that a reload with a new secret fetches anew.
    const key = `oauth2 ${cfg.tokenUrl} ${cfg.clientId} ${cfg.scope ?? ''} ${tag(cfg.clientSecret)}`;
    return this.tokens.get(key, () => fetchClientCredentialsToken(cfg, this.#dispatcher, this.#clock));
  }

  /**
   * The access token of a credential-manager authorization, with the token endpoint's other fields
   * (its claims); cached and refreshed ahead of expiry like every other token. A static token is
   * handed back as configured.
   */
  authorizationToken(provider: string, id: string, cfg: AuthorizationCredentials): Promise<FetchedToken> {
    if (cfg.token !== undefined) return Promise.resolve({ token: cfg.token, expiresAt: Number.POSITIVE_INFINITY, claims: {} });
    const cc = cfg.clientCredentials;
    if (cc !== undefined) {
      const key = `authorization ${provider} ${id} client-credentials ${cc.tokenUrl} ${cc.clientId} ${cc.scope ?? ''} ${tag(cc.clientSecret)}`;
      return this.tokens.getFetched(key, () => fetchClientCredentialsToken(cc, this.#dispatcher, this.#clock));
    }
    const rt = cfg.refreshToken;
    if (rt === undefined) return Promise.reject(new Error(`authorization ${provider}/${id} has no credentials`));
    // The configured refresh token is part of the key, so a reload with a new one starts afresh.
    const key = `authorization ${provider} ${id} refresh-token ${rt.tokenUrl} ${rt.clientId} ${rt.scope ?? ''} ${tag(rt.refreshToken)}`;
    return this.tokens.getFetched(key, async () => {
      const t = await fetchRefreshedToken({ ...rt, refreshToken: this.#refreshTokens.get(key) ?? rt.refreshToken }, this.#dispatcher, this.#clock);
      if (t.refreshToken !== undefined) {
        this.#refreshTokens.delete(key);
        if (this.#refreshTokens.size >= MAX_REFRESH_TOKENS) {
          const oldest = this.#refreshTokens.keys().next().value;
          if (oldest !== undefined) this.#refreshTokens.delete(oldest);
        }
        this.#refreshTokens.set(key, t.refreshToken);
      }
      return { token: t.token, expiresAt: t.expiresAt, claims: t.claims };
    });
  }

  /** OpenID configuration URL of an Entra ID tenant (v2.0 endpoint). */
  entraConfigUrl(tenantId: string): string {
    return `${this.authorityHost}/${encodeURIComponent(tenantId)}/v2.0/.well-known/openid-configuration`;
  }

  close(): Promise<void> {
    return this.#dispatcher.close();
  }
}
