/**
 * Requests and failures over a sliding interval, kept in a fixed ring of buckets so memory does
 * not grow with traffic. The window is approximate by one bucket (a tenth of the interval):
 * circuit breakers need "about the last minute", not exact timestamps.
 * @module
 */

const BUCKETS = 10;

export interface Counts {
  readonly total: number;
  readonly failures: number;
}

export class SlidingCounts {
  readonly intervalMs: number;
  readonly #bucketMs: number;
  readonly #totals = new Float64Array(BUCKETS);
  readonly #failures = new Float64Array(BUCKETS);
  /** Which bucket number (time / bucketMs) each slot currently holds. */
  readonly #slots = new Float64Array(BUCKETS).fill(-1);

  constructor(intervalMs: number) {
    this.intervalMs = intervalMs;
    this.#bucketMs = Math.max(1, intervalMs / BUCKETS);
  }

  add(now: number, failed: boolean): void {
    const bucket = Math.floor(now / this.#bucketMs);
    const i = bucket % BUCKETS;
    if (this.#slots[i] !== bucket) {
      this.#slots[i] = bucket;
      this.#totals[i] = 0;
      this.#failures[i] = 0;
    }
    (this.#totals[i] as number)++;
    if (failed) (this.#failures[i] as number)++;
  }

  sums(now: number): Counts {
    const current = Math.floor(now / this.#bucketMs);
    let total = 0;
    let failures = 0;
    for (let i = 0; i < BUCKETS; i++) {
      const slot = this.#slots[i] as number;
      if (slot > current - BUCKETS && slot <= current) {
        total += this.#totals[i] as number;
        failures += this.#failures[i] as number;
      }
    }
    return { total, failures };
  }

  reset(): void {
    this.#slots.fill(-1);
  }
}
