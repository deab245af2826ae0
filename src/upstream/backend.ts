/**
 * A single backend (APIM's `backends` resource): its URL, the credentials the gateway adds, its
 * timeouts, its health, and one keep-alive connection pool (undici `Pool`) shared by every request
 * to it. Pools of backends are in pool.ts.
 * @module
 */
import { Pool } from 'undici';
import type { BackendConfig } from '../config/schema.ts';
import type { BackendHealth } from './health.ts';

/** Fetches (or serves from cache) an access token for this backend; see src/identity. */
export type BackendTokenSource = () => Promise<string>;

/** Builds the token source for `managedIdentity` / `oauth2` credentials. */
export interface BackendTokens {
  managedIdentityToken(resource: string, clientId?: string): Promise<string>;
  oauth2Token(cfg: { tokenUrl: string; clientId: string; clientSecret: string; scope?: string | undefined }): Promise<string>;
}

export interface BackendTimeouts {
  readonly connectMs: number;
  readonly responseHeadersMs: number;
  readonly idleStreamMs: number;
}

export class Backend {
  readonly id: string;
  readonly url: URL;
  /** URL path without a trailing slash; the request's path below the API is appended to it. */
  readonly basePath: string;
  /** Credential headers (lower-case names) added to every upstream request. */
  readonly credentialHeaders: Readonly<Record<string, string>>;
  /** For `managedIdentity` / `oauth2` credentials: the token sent as `Authorization: Bearer`, fetched per request from the cache. */
  readonly bearerToken: BackendTokenSource | null;
  readonly timeouts: BackendTimeouts;
  readonly pool: Pool;
  /** Circuit breaker, recent errors, rate-limit skip; shared with the next runtime after a reload. */
  readonly health: BackendHealth;
  readonly rateLimitHeaders: BackendConfig['rateLimitHeaders'];
  readonly maxPendingRequests: number;

  /** @param cfg a single backend's config (its `url` is set; the schema guarantees it). */
  constructor(id: string, cfg: BackendConfig, health: BackendHealth, tokens?: BackendTokens) {
    if (cfg.url === undefined) throw new TypeError(`backend "${id}" has no url`);
    this.id = id;
    this.health = health;
    this.rateLimitHeaders = cfg.rateLimitHeaders;
    this.maxPendingRequests = cfg.maxPendingRequests;
    this.maxConnections = cfg.maxConnections;
    this.url = new URL(cfg.url);
    this.basePath = this.url.pathname.replace(/\/+$/, '');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(cfg.credentials?.header ?? {})) headers[name.toLowerCase()] = value;
    if (cfg.credentials?.bearer !== undefined) headers['authorization'] = `Bearer ${cfg.credentials.bearer}`;
    this.credentialHeaders = headers;
    const mi = cfg.credentials?.managedIdentity;
    const oauth2 = cfg.credentials?.oauth2;
    if ((mi !== undefined || oauth2 !== undefined) && tokens === undefined) throw new TypeError(`backend "${id}" needs the identity service for its credentials`);
    if (mi !== undefined && tokens !== undefined) this.bearerToken = () => tokens.managedIdentityToken(mi.resource, mi.clientId);
    else if (oauth2 !== undefined && tokens !== undefined) this.bearerToken = () => tokens.oauth2Token(oauth2);
    else this.bearerToken = null;
    this.timeouts = cfg.timeouts;
    this.pool = new Pool(this.url.origin, {
      connections: cfg.maxConnections,
      pipelining: 1,
      keepAliveTimeout: 4_000,
      connect: { timeout: cfg.timeouts.connectMs },
      headersTimeout: cfg.timeouts.responseHeadersMs,
      bodyTimeout: cfg.timeouts.idleStreamMs,
    });
  }

  readonly maxConnections: number;
  /**
   * Requests sent to this backend whose response has not ended yet. Kept here rather than read
   * from undici's `pool.stats`, which builds an object and walks every connection on each read.
   */
  active = 0;

  /** Requests beyond `maxConnections` that would wait for a free connection. */
  get waiting(): number {
    return Math.max(0, this.active - this.maxConnections);
  }

  /** Counts a request as active until its exchange ends: body complete, failed, or dropped. */
  begin(): () => void {
    this.active++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.active--;
    };
  }

  /** Origin and path only: safe to print (credentials live in headers, never in the URL we show). */
  get displayUrl(): string {
    return `${this.url.origin}${this.basePath}`;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
