/**
 * Subscription keys. Keys are held only as keyed SHA-256 digests (SHA-256 over a per-process random
 * pepper and the key): a lookup digests the presented key (fixed-length output, so the comparison
 * below is constant-time whatever the input length) and confirms with `timingSafeEqual`. The raw
 * keys are not kept.
 *
 * Why not HMAC: `createHmac` builds an OpenSSL context per call, ~11 µs on a cold request path
 * versus ~0.3 µs for the one-shot `crypto.hash`; for an equality lookup of digests nobody else
 * sees, the keyed hash gives the same guarantee (an attacker cannot compute a digest without the
 * pepper, and length extension does not apply to equality).
 * @module
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { SubscriptionInfo } from '../core/context.ts';

export class KeyStore {
  readonly #pepper = randomBytes(32).toString('base64');
  readonly #byDigest = new Map<string, { digest: Buffer; subscription: SubscriptionInfo }>();

  add(key: string, subscription: SubscriptionInfo): void {
    const digest = this.#digest(key);
    this.#byDigest.set(digest, { digest: Buffer.from(digest, 'base64'), subscription });
  }

  /** The subscription owning `key`, or undefined. */
  find(key: string): SubscriptionInfo | undefined {
    const digest = this.#digest(key);
    const entry = this.#byDigest.get(digest);
    if (entry === undefined) return undefined;
    return timingSafeEqual(entry.digest, Buffer.from(digest, 'base64')) ? entry.subscription : undefined;
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
