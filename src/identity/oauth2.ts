/**
 * OAuth2 client credentials grant (RFC 6749 §4.4) for backend `credentials.oauth2`: one POST of
 * `grant_type=client_credentials` with the client id and secret (RFC 6749 §2.3.1 form fields, as
 * Entra ID and most providers accept), bounded in time and size. Any token endpoint works; it is
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

const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;

export async function fetchClientCredentialsToken(cfg: OAuth2ClientCredentials, dispatcher: Dispatcher, clock: () => number, timeoutMs = 10_000): Promise<FetchedToken> {
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: cfg.clientId, client_secret: cfg.clientSecret });
  if (cfg.scope !== undefined) form.set('scope', cfg.scope);
  const where = new URL(cfg.tokenUrl);
  const at = `${where.origin}${where.pathname}`;
  let res;
  try {
    res = await request(cfg.tokenUrl, {
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
  let body: { access_token?: unknown; expires_in?: unknown; error?: unknown };
  try {
    body = JSON.parse(raw.toString('utf8')) as typeof body;
  } catch {
    throw new Error(`OAuth2 token endpoint ${at} answered ${res.statusCode} without JSON`);
  }
  if (res.statusCode !== 200 || typeof body.access_token !== 'string' || body.access_token === '') {
    // Only the error code is repeated: the body could echo what was sent.
    const code = typeof body.error === 'string' ? body.error.slice(0, 100) : 'no access_token';
    throw new Error(`OAuth2 token endpoint ${at} refused the client credentials (${res.statusCode} ${code})`);
  }
  const seconds = Number(body.expires_in);
  // RFC 6749 makes expires_in optional; without it, assume an hour (Entra's usual lifetime).
  const lifetime = Number.isFinite(seconds) && seconds > 0 ? seconds : 3600;
  return { token: body.access_token, expiresAt: clock() + lifetime * 1000 };
}
