/**
 * The counter store behind every limit policy (llm-token-limit, rate-limit-by-key, quota-by-key,
 * rate-limit, quota): one interface, an in-memory implementation for one process and a Redis one
 * for many replicas. A request reserves on all the counters that apply to it in one atomic step
 * (all or nothing), and settles to what it really cost when it ends.
 * @module
 */

/**
 * How a counter forgets.
 * - `sliding`: the sum of the last `windowMs` split into `bucketMs` buckets (exact to one bucket):
 *   no double burst at a window edge, unlike a fixed minute.
 * - `fixed`: a calendar window [startMs, endMs) computed by the caller (quotas: UTC hour, day,
 *   week from Monday, month, year; or renewal periods aligned to a start time).
 */
export type WindowSpec =
  | { readonly kind: 'sliding'; readonly windowMs: number; readonly bucketMs: number }
  | { readonly kind: 'fixed'; readonly startMs: number; readonly endMs: number };

export interface CounterRequest {
  /** Logical key, e.g. `tpm:<counter-key value>`; the store namespaces (and hash-tags) it. */
  readonly key: string;
  readonly window: WindowSpec;
  readonly limit: number;
  /** Amount reserved now (≥ 0): estimated tokens, or 1 call. */
  readonly cost: number;
}

export interface CounterState {
  /** Counted in the window, including this request's reservation when admitted. */
  readonly used: number;
  readonly remaining: number;
  /** When refused: how long until the cost would fit (0 when admitted). */
  readonly retryAfterMs: number;
}

export interface ReservationHandle {
  /** Time of the reservation (the sliding bucket the cost was put in). */
  readonly at: number;
  readonly requests: readonly CounterRequest[];
}

export interface Reservation {
  readonly admitted: boolean;
  /** Same order as the requests. */
  readonly counters: readonly CounterState[];
  /** Index of the first counter that refused, or -1. */
  readonly refusedBy: number;
  /** For settle; null when refused (nothing was reserved). */
  readonly handle: ReservationHandle | null;
}

export interface LimitStore {
  /** Admits when every counter has room (`used + cost ≤ limit`), reserving on all; else none. */
  reserve(requests: readonly CounterRequest[], now: number): Promise<Reservation>;
  /**
   * Replaces each reserved cost by the actual one (`actual[i]`, ≥ 0; 0 releases). A counter whose
   * window has passed is left alone.
   */
  settle(handle: ReservationHandle, actual: readonly number[], now: number): Promise<void>;
  close(): Promise<void>;
  /**
   * The same as `reserve` and `settle`, answered at once, for a store that needs no I/O (memory):
   * the admission then costs the request no promise and no microtask turns.
   */
  readonly reserveNow?: (requests: readonly CounterRequest[], now: number) => Reservation;
  readonly settleNow?: (handle: ReservationHandle, actual: readonly number[], now: number) => void;
}

/** Which bucket a time falls in, for a sliding window. */
export function bucketOf(t: number, bucketMs: number): number {
  return Math.floor(t / bucketMs);
}
