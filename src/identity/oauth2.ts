/**
 * OAuth2 client credentials grant (RFC 6749 §4.4) for backend `credentials.oauth2` and
 * authorizations: one POST of `grant_type=client_credentials` with the client id and secret
 * (RFC 6749 §2.3.1 form fields, as Entra ID and most providers accept), bounded in time and size;
 * and the refresh token grant (§6) for authorizations that hold a user's refresh token. Any token endpoint works; it is
 * the one the operator configured, never a URL from a request.
 * @module
 */
import { request, type Dispatcher } from 'undici';
import type { FetchedToken } from './token-cache.ts';
import { readCapped } from '../upstream/read-bounded.ts';

export interface OAuth2ClientCredentials {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scope?: string | undefined;
}

/** OAuth2 refresh token grant (RFC 6749 §6), for a credential-manager authorization. */
export interface OAuth2RefreshToken {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret?: string | undefined;
  readonly refreshToken: string;
  readonly scope?: string | undefined;
}

const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;

/** Token-response fields that are credentials: never handed to policy expressions as claims. */
const SECRET_FIELDS = new Set(['access_token', 'refresh_token', 'id_token']);

export interface GrantedToken extends FetchedToken {
  /** A rotated refresh token, when the endpoint sent one (RFC 6749 §6: the old one may be revoked). */
  readonly refreshToken?: string | undefined;
}

export async function fetchClientCredentialsToken(cfg: OAuth2ClientCredentials, dispatcher: Dispatcher, clock: () => number, timeoutMs = 10_000): Promise<GrantedToken> {
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: cfg.clientId, client_secret: cfg.clientSecret });
  if (cfg.scope !== undefined) form.set('scope', cfg.scope);
  return requestToken(cfg.tokenUrl, form, 'the client credentials', dispatcher, clock, timeoutMs);
}

export async function fetchRefreshedToken(cfg: OAuth2RefreshToken, dispatcher: Dispatcher, clock: () => number, timeoutMs = 10_000): Promise<GrantedToken> {
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: cfg.refreshToken, client_id: cfg.clientId });
  if (cfg.clientSecret !== undefined) form.set('client_secret', cfg.clientSecret);
  if (cfg.scope !== undefined) form.set('scope', cfg.scope);
  return requestToken(cfg.tokenUrl, form, 'the refresh token', dispatcher, clock, timeoutMs);
}

/** One token request, bounded in time and size; errors name the endpoint, never what was sent. */
async function requestToken(tokenUrl: string, form: URLSearchParams, what: string, dispatcher: Dispatcher, clock: () => number, timeoutMs: number): Promise<GrantedToken> {
  const where = new URL(tokenUrl);
  const at = `${where.origin}${where.pathname}`;
  let res;
  try {
    res = await request(tokenUrl, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      signal: AbortSignal.timeout(timeoutMs),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  } catch (err) {
    throw new Error(`OAuth2 token endpoint ${at} unreachable: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const raw = await readCapped(res.body, MAX_TOKEN_RESPONSE_BYTES);
  if (raw === undefined) throw new Error(`OAuth2 token endpoint ${at} answered more than ${MAX_TOKEN_RESPONSE_BYTES} bytes`);
  let body: Record<string, unknown>;
  try {
    const parsed = JSON.parse(raw.toString('utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    body = parsed as Record<string, unknown>;
  } catch {
    throw new Error(`OAuth2 token endpoint ${at} answered ${res.statusCode} without JSON`);
  }
  const token = body['access_token'];
  if (res.statusCode !== 200 || typeof token !== 'string' || token === '') {
    // Only the error code is repeated: the body could echo what was sent.
    const code = typeof body['error'] === 'string' ? body['error'].slice(0, 100) : 'no access_token';
    throw new Error(`OAuth2 token endpoint ${at} refused ${what} (${res.statusCode} ${code})`);
  }
  const seconds = Number(body['expires_in']);
  // RFC 6749 makes expires_in optional; without it, assume an hour (Entra's usual lifetime).
  const lifetime = Number.isFinite(seconds) && seconds > 0 ? seconds : 3600;
  const claims: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (!SECRET_FIELDS.has(k)) claims[k] = v;
  const rotated = body['refresh_token'];
  return { token, expiresAt: clock() + lifetime * 1000, claims, refreshToken: typeof rotated === 'string' && rotated !== '' ? rotated : undefined };
}
