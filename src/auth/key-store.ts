/**
 * Subscription keys. Keys are held only as keyed SHA-256 digests (SHA-256 over a per-process random
 * pepper and the key): a lookup digests the presented key and looks the digest up in a map. The
 * raw keys are not kept.
 *
 * Why no `timingSafeEqual` after the lookup: the map returns an entry only for a digest equal to
 * its key, so a second comparison of the same two digests is always true (it cost a base64 decode
 * and a native call, ~1 µs per request). What the map's comparison could leak by its timing is
 * how much of a digest matched, and a digest cannot be chosen or computed without the pepper.
 *
 * Why not HMAC: `createHmac` builds an OpenSSL context per call, ~11 µs on a cold request path
 * versus ~0.3 µs for the one-shot `crypto.hash`; for an equality lookup of digests nobody else
 * sees, the keyed hash gives the same guarantee (an attacker cannot compute a digest without the
 * pepper, and length extension does not apply to equality).
 * @module
 */
import { hash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { SubscriptionInfo } from '../core/context.ts';

export class KeyStore {
  readonly #pepper = randomBytes(32).toString('base64');
  readonly #byDigest = new Map<string, SubscriptionInfo>();

  add(key: string, subscription: SubscriptionInfo): void {
    this.#byDigest.set(this.#digest(key), subscription);
  }

  /** The subscription owning `key`, or undefined. */
  find(key: string): SubscriptionInfo | undefined {
    return this.#byDigest.get(this.#digest(key));
  }

  get size(): number {
    return this.#byDigest.size;
  }

  #digest(key: string): string {
    return hash('sha256', this.#pepper + key, 'base64');
  }
}

/**
 * The key a client presented, in APIM's order of precedence: `api-key` (Azure OpenAI clients),
 * `Ocp-Apim-Subscription-Key` (APIM), then `Authorization: Bearer` (OpenAI clients).
 */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const apiKey = headers['api-key'];
  if (typeof apiKey === 'string' && apiKey !== '') return apiKey;
  const apim = headers['ocp-apim-subscription-key'];
  if (typeof apim === 'string' && apim !== '') return apim;
  const auth = headers.authorization;
  if (typeof auth === 'string' && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ') return auth.slice(7).trim();
  return undefined;
}

/**
 * The request's headers without the credentials `presentedKey` reads (`authorization` only when
 * its bearer token was the key), as a copy: `delete` on the object node:http built turns it into a
 * dictionary-mode object, which every later read of the headers (the copy for the backend,
 * policies) pays for.
 */
export function withoutCredentials(headers: IncomingHttpHeaders, bearerIsKey: boolean): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const name in headers) {
    if (name === 'api-key' || name === 'ocp-apim-subscription-key' || (bearerIsKey && name === 'authorization')) continue;
    out[name] = headers[name];
  }
  return out;
}
