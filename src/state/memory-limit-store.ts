/**
 * The in-memory LimitStore (one process). Counters live in maps keyed by the logical key; expired
 * buckets and windows are dropped as they are touched, and a sweep bounds memory for keys that
 * are never touched again. JavaScript runs one task at a time, so reserve is atomic without locks.
 * @module
 */
import { bucketOf, type CounterRequest, type CounterState, type LimitStore, type Reservation, type ReservationHandle } from './limit-store.ts';

interface Sliding {
  readonly buckets: Map<number, number>;
  expires: number;
}

interface Fixed {
  used: number;
  readonly start: number;
  readonly end: number;
}

export interface MemoryLimitStoreOptions {
  /** Counters kept at most; past it the least recently created expired-or-oldest ones go. */
  readonly maxCounters?: number;
}

export class MemoryLimitStore implements LimitStore {
  readonly #sliding = new Map<string, Sliding>();
  readonly #fixed = new Map<string, Fixed>();
  readonly #max: number;

  constructor(opts: MemoryLimitStoreOptions = {}) {
    this.#max = opts.maxCounters ?? 200_000;
  }

  reserve(requests: readonly CounterRequest[], now: number): Promise<Reservation> {
    return Promise.resolve(this.reserveNow(requests, now));
  }

  settle(handle: ReservationHandle, actual: readonly number[], now: number): Promise<void> {
    this.settleNow(handle, actual, now);
    return Promise.resolve();
  }

  readonly reserveNow = (requests: readonly CounterRequest[], now: number): Reservation => {
    const used: number[] = [];
    let refusedBy = -1;
    for (let i = 0; i < requests.length; i++) {
      const r = requests[i] as CounterRequest;
      const u = this.#used(r, now);
      used.push(u);
      if (refusedBy < 0 && u + r.cost > r.limit) refusedBy = i;
    }
    const states: CounterState[] = [];
    if (refusedBy >= 0) {
      for (let i = 0; i < requests.length; i++) {
        const r = requests[i] as CounterRequest;
        const u = used[i] as number;
        const fits = u + r.cost <= r.limit;
        states.push({ used: u, remaining: Math.max(0, r.limit - u), retryAfterMs: fits ? 0 : this.#retryAfter(r, u, now) });
      }
      return { admitted: false, counters: states, refusedBy, handle: null };
    }
    for (let i = 0; i < requests.length; i++) {
      const r = requests[i] as CounterRequest;
      this.#add(r, now, r.cost);
      const u = (used[i] as number) + r.cost;
      states.push({ used: u, remaining: Math.max(0, r.limit - u), retryAfterMs: 0 });
    }
    this.#bound(now);
    return { admitted: true, counters: states, refusedBy: -1, handle: { at: now, requests } };
  };

  readonly settleNow = (handle: ReservationHandle, actual: readonly number[], now: number): void => {
    handle.requests.forEach((r, i) => {
      const delta = (actual[i] ?? r.cost) - r.cost;
      if (delta === 0) return;
      if (r.window.kind === 'sliding') {
        if (now - handle.at >= r.window.windowMs) return;
        const s = this.#sliding.get(r.key);
        if (s === undefined) return;
        const b = bucketOf(handle.at, r.window.bucketMs);
        const v = Math.max(0, (s.buckets.get(b) ?? 0) + delta);
        s.buckets.set(b, v);
      } else {
        const f = this.#fixed.get(fixedKey(r));
        if (f === undefined || now >= f.end) return;
        f.used = Math.max(0, f.used + delta);
      }
    });
  };

  close(): Promise<void> {
    this.#sliding.clear();
    this.#fixed.clear();
    return Promise.resolve();
  }

  /** Counters held (for tests of boundedness). */
  get size(): number {
    return this.#sliding.size + this.#fixed.size;
  }

  #used(r: CounterRequest, now: number): number {
    if (r.window.kind === 'fixed') {
      const f = this.#fixed.get(fixedKey(r));
      return f === undefined || now >= f.end ? 0 : f.used;
    }
    const s = this.#sliding.get(r.key);
    if (s === undefined) return 0;
    const { windowMs, bucketMs } = r.window;
    const oldest = bucketOf(now - windowMs, bucketMs) + 1;
    let sum = 0;
    // forEach, not for...of: no [bucket, tokens] array per bucket (up to 60 per request, ~0.8 KB).
    s.buckets.forEach((v, b, buckets) => {
      if (b < oldest) buckets.delete(b);
      else sum += v;
    });
    return sum;
  }

  #add(r: CounterRequest, now: number, amount: number): void {
    if (r.window.kind === 'fixed') {
      const k = fixedKey(r);
      let f = this.#fixed.get(k);
      if (f === undefined || now >= f.end) {
        f = { used: 0, start: r.window.startMs, end: r.window.endMs };
        this.#fixed.set(k, f);
      }
      f.used += amount;
      return;
    }
    let s = this.#sliding.get(r.key);
    if (s === undefined) {
      s = { buckets: new Map(), expires: 0 };
      this.#sliding.set(r.key, s);
    }
    const b = bucketOf(now, r.window.bucketMs);
    s.buckets.set(b, (s.buckets.get(b) ?? 0) + amount);
    s.expires = now + r.window.windowMs;
  }

  /** Oldest of the buckets that must expire for `used + cost` to fit. */
  #retryAfter(r: CounterRequest, used: number, now: number): number {
    if (r.window.kind === 'fixed') return Math.max(0, r.window.endMs - now);
    if (r.cost > r.limit) return r.window.windowMs;
    const s = this.#sliding.get(r.key);
    if (s === undefined) return 0;
    let excess = used + r.cost - r.limit;
    const buckets = [...s.buckets].sort((a, b) => a[0] - b[0]);
    for (const [b, v] of buckets) {
      excess -= v;
      if (excess <= 0) return Math.max(1, (b + 1) * r.window.bucketMs + r.window.windowMs - now);
    }
    return r.window.windowMs;
  }

  #bound(now: number): void {
    if (this.size <= this.#max) return;
    for (const [k, s] of this.#sliding) if (s.expires <= now) this.#sliding.delete(k);
    for (const [k, f] of this.#fixed) if (f.end <= now) this.#fixed.delete(k);
    // Still over: drop the oldest-created (Map order). Losing a counter under a flood of distinct
    // keys admits their next requests, which is the safe direction for a local store.
    while (this.size > this.#max) {
      const first = this.#sliding.keys().next();
      if (first.done !== true) this.#sliding.delete(first.value);
      else {
        const f = this.#fixed.keys().next();
        if (f.done === true) break;
        this.#fixed.delete(f.value);
      }
    }
  }
}

function fixedKey(r: CounterRequest): string {
  return r.window.kind === 'fixed' ? `${r.key}@${r.window.startMs}` : r.key;
}
