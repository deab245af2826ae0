/**
 * @module
 * Azure-OpenAI-style quotas: tokens per minute and requests per minute over a sliding 60 s
 * window. Tokens are charged at admission (prompt + requested completion tokens), as Azure
 * estimates them, so a burst of large requests is refused before any of them completes.
 */

export const WINDOW_MS = 60_000;
/**
 * Charges are grouped into 100 ms slots so memory stays fixed (601 slots) however many requests
 * arrive. A slot is released one window after its latest charge: exact for a lone charge, and at
 * most 100 ms late (never early) for charges that share a slot.
 */
const SLOT_MS = 100;
const SLOT_COUNT = Math.ceil(WINDOW_MS / SLOT_MS) + 1;

export interface SlidingWindow {
  readonly limit: number;
  /** Units still available at `now` (never negative). */
  remaining(now: number): number;
  /** 0 when `cost` fits now, else the milliseconds until it will (a full window if it never can). */
  waitFor(cost: number, now: number): number;
  charge(cost: number, now: number): void;
}

/**
 * @example
 * const tpm = createSlidingWindow(1000);
 * tpm.waitFor(400, Date.now()); // 0: fits
 */
export function createSlidingWindow(limit: number): SlidingWindow {
  const slotIds = new Float64Array(SLOT_COUNT).fill(-1);
  const amounts = new Float64Array(SLOT_COUNT);
  const latestCharge = new Float64Array(SLOT_COUNT);

  function live(now: number): { releaseAt: number; amount: number }[] {
    const entries: { releaseAt: number; amount: number }[] = [];
    for (let i = 0; i < SLOT_COUNT; i++) {
      const amount = amounts[i] ?? 0;
      const releaseAt = (latestCharge[i] ?? 0) + WINDOW_MS;
      if ((slotIds[i] ?? -1) >= 0 && amount > 0 && releaseAt > now) entries.push({ releaseAt, amount });
    }
    return entries;
  }

  function used(now: number): number {
    let total = 0;
    for (const entry of live(now)) total += entry.amount;
    return total;
  }

  return {
    limit,
    remaining(now) {
      return Math.max(0, limit - used(now));
    },
    waitFor(cost, now) {
      if (cost > limit) return WINDOW_MS;
      const entries = live(now).sort((a, b) => a.releaseAt - b.releaseAt);
      let inUse = 0;
      for (const entry of entries) inUse += entry.amount;
      if (inUse + cost <= limit) return 0;
      for (const entry of entries) {
        inUse -= entry.amount;
        if (inUse + cost <= limit) return Math.max(1, entry.releaseAt - now);
      }
      return WINDOW_MS;
    },
    charge(cost, now) {
      const slotId = Math.floor(now / SLOT_MS);
      const index = slotId % SLOT_COUNT;
      // A slot still holding an older id is out of the window by construction (SLOT_COUNT spans it).
      if (slotIds[index] !== slotId) {
        slotIds[index] = slotId;
        amounts[index] = 0;
        latestCharge[index] = now;
      }
      amounts[index] = (amounts[index] ?? 0) + cost;
      latestCharge[index] = Math.max(latestCharge[index] ?? 0, now);
    },
  };
}

export type AdmissionResult =
  | { admitted: true }
  | { admitted: false; limit: 'tokens' | 'requests'; retryAfterMs: number };

export interface RateLimiter {
  /** Charges one request of `tokens` if both quotas allow it; charges nothing otherwise. */
  admit(tokens: number): AdmissionResult;
  /** `x-ratelimit-*` headers for the current state; empty when no limit is configured. */
  headers(): Record<string, string>;
}

export interface RateLimiterOptions {
  tpm: number | undefined;
  rpm: number | undefined;
  now: () => number;
}

/**
 * @example
 * const limiter = createRateLimiter({ tpm: 1000, rpm: 10, now: () => Date.now() });
 * limiter.admit(250); // { admitted: true }
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const tokens = options.tpm === undefined ? undefined : createSlidingWindow(options.tpm);
  const requests = options.rpm === undefined ? undefined : createSlidingWindow(options.rpm);
  const { now } = options;

  return {
    admit(cost) {
      const at = now();
      const requestWait = requests?.waitFor(1, at) ?? 0;
      const tokenWait = tokens?.waitFor(cost, at) ?? 0;
      if (requestWait > 0 || tokenWait > 0) {
        return tokenWait >= requestWait
          ? { admitted: false, limit: 'tokens', retryAfterMs: tokenWait }
          : { admitted: false, limit: 'requests', retryAfterMs: requestWait };
      }
      requests?.charge(1, at);
      tokens?.charge(cost, at);
      return { admitted: true };
    },
    headers() {
      const at = now();
      const result: Record<string, string> = {};
      if (tokens !== undefined) {
        result['x-ratelimit-limit-tokens'] = String(tokens.limit);
        result['x-ratelimit-remaining-tokens'] = String(tokens.remaining(at));
      }
      if (requests !== undefined) {
        result['x-ratelimit-limit-requests'] = String(requests.limit);
        result['x-ratelimit-remaining-requests'] = String(requests.remaining(at));
      }
      return result;
    },
  };
}
