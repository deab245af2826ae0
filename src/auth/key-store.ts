/**
 * Subscription keys. Keys are held only as HMAC-SHA256 digests under a per-process random secret:
 * a lookup hashes the presented key (fixed-length output, so the comparison below is constant-time
 * whatever the input length) and confirms with `timingSafeEqual`. The raw keys are not kept.
 * @module
 */
import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { SubscriptionInfo } from '../core/context.ts';

export class KeyStore {
  // A KeyObject, not a Buffer: createHmac would otherwise import the key on every call (5x slower).
  readonly #secret: KeyObject = createSecretKey(randomBytes(32));
  readonly #byDigest = new Map<string, { digest: Buffer; subscription: SubscriptionInfo }>();

  add(key: string, subscription: SubscriptionInfo): void {
    const digest = this.#digest(key);
    this.#byDigest.set(digest.toString('base64'), { digest, subscription });
  }

  /** The subscription owning `key`, or undefined. */
  find(key: string): SubscriptionInfo | undefined {
    const digest = this.#digest(key);
    const entry = this.#byDigest.get(digest.toString('base64'));
    if (entry === undefined) return undefined;
    return timingSafeEqual(entry.digest, digest) ? entry.subscription : undefined;
  }

  get size(): number {
    return this.#byDigest.size;
  }

  #digest(key: string): Buffer {
    return createHmac('sha256', this.#secret).update(key).digest();
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
