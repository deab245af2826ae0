/**
 * The breaker around the Redis store.
 * @module
 */
import type { RedisLimitStoreEvent } from './redis-limit-store.ts';

/**
 * Consecutive-failure breaker: opens after `threshold` failures in a row, lets one call through
 * once `openMs` has passed (half-open), and closes on any success (including a background probe).
 */
export class Breaker {
  #state: 'closed' | 'open' | 'half-open' = 'closed';
  #failures = 0;
  #openUntil = 0;
  #probing = false;
  readonly #threshold: number;
  readonly #openMs: number;
  readonly #clock: () => number;
  readonly #emit: (e: RedisLimitStoreEvent) => void;

  constructor(threshold: number, openMs: number, clock: () => number, emit: (e: RedisLimitStoreEvent) => void) {
    this.#threshold = Math.max(1, threshold);
    this.#openMs = openMs;
    this.#clock = clock;
    this.#emit = emit;
  }

  allow(): boolean {
    if (this.#state === 'closed') return true;
    if (this.#state === 'open') {
      if (this.#clock() < this.#openUntil) return false;
      this.#state = 'half-open';
    }
    if (this.#probing) return false;
    this.#probing = true;
    return true;
  }

  success(): void {
    this.#failures = 0;
    this.#probing = false;
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#emit({ type: 'breaker-close' });
  }

  failure(): void {
    this.#failures++;
    const wasProbe = this.#state === 'half-open' && this.#probing;
    this.#probing = false;
    if (this.#state === 'open') return;
    if (wasProbe || this.#failures >= this.#threshold) {
      this.#state = 'open';
      this.#openUntil = this.#clock() + this.#openMs;
      this.#emit({ type: 'breaker-open', detail: `${this.#failures} consecutive failures` });
    }
  }

  get isOpen(): boolean {
    return this.#state === 'open';
  }

  retryAfterMs(): number {
    return this.#state === 'open' ? Math.max(1, this.#openUntil - this.#clock()) : this.#openMs;
  }
}
