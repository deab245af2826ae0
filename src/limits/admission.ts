/**
 * One admission per request. Limit policies (llm-token-limit, rate-limit-by-key, quota-by-key,
 * rate-limit, quota) do not call the store themselves: each adds its counters here, and when the
 * inbound section ends the batch is reserved in ONE store call (one Redis round trip for every
 * limit that applies). The first policy whose counter refuses decides the answer (429 or 403,
 * in document order); on admission each policy sets its headers and variables, and registers how
 * its reservation settles when the request is over.
 * @module
 */
import type { RequestContext } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import type { CounterRequest, CounterState, LimitStore, Reservation } from '../state/limit-store.ts';

export interface LimitClaim {
  readonly counters: readonly CounterRequest[];
  /** Called with this claim's counter states when the batch was admitted. */
  admitted(ctx: RequestContext, states: readonly CounterState[]): void;
  /** The error when counter `index` of this claim refused. */
  refused(ctx: RequestContext, index: number, state: CounterState): GatewayError;
  /** What each counter really cost, when the request is over (`status` as the client saw it). */
  actual(ctx: RequestContext, status: number): readonly number[];
}

export class AdmissionBatch {
  readonly #store: LimitStore;
  readonly #now: () => number;
  readonly #claims: LimitClaim[] = [];

  constructor(store: LimitStore, now: () => number) {
    this.#store = store;
    this.#now = now;
  }

  add(claim: LimitClaim): void {
    this.#claims.push(claim);
  }

  /**
   * Reserves every claimed counter in one store call. Answered synchronously (no promise) when the
   * store can (the memory store's reserveNow); throws the refusal of the first claim that refused.
   */
  flush(ctx: RequestContext): Promise<void> | undefined {
    ctx.admission = null;
    const claims = this.#claims;
    if (claims.length === 0) return undefined;
    // One claim (one limit policy) is the common case: its counters and states are used as they are.
    const only = claims.length === 1 ? (claims[0] as LimitClaim) : null;
    const requests = only !== null ? only.counters : claims.flatMap((c) => c.counters);
    const at = this.#now();
    const store = this.#store;
    if (store.reserveNow !== undefined) {
      let result: Reservation;
      try {
        result = store.reserveNow(requests, at);
      } catch (err) {
        throw unavailable(err);
      }
      this.#apply(ctx, result, only);
      return undefined;
    }
    return store.reserve(requests, at).then(
      (result) => this.#apply(ctx, result, only),
      (err: unknown) => {
        throw unavailable(err);
      },
    );
  }

  #apply(ctx: RequestContext, result: Reservation, only: LimitClaim | null): void {
    const claims = this.#claims;
    let offset = 0;
    if (!result.admitted) {
      for (const c of claims) {
        const idx = result.refusedBy - offset;
        if (idx >= 0 && idx < c.counters.length) throw c.refused(ctx, idx, result.counters[result.refusedBy] as CounterState);
        offset += c.counters.length;
      }
      throw new GatewayError('GW_ERR_RATE_LIMIT', 'Rate limit is exceeded.');
    }
    const handle = result.handle;
    if (only !== null) only.admitted(ctx, result.counters);
    else {
      for (const c of claims) {
        c.admitted(ctx, result.counters.slice(offset, offset + c.counters.length));
        offset += c.counters.length;
      }
    }
    if (handle === null) return;
    const store = this.#store;
    const now = this.#now;
    ctx.finishers.push((done, status) => {
      const actual = only !== null ? only.actual(done, status) : claims.flatMap((c) => c.actual(done, status));
      // Settling is best effort and off the response path: the client already has its answer.
      if (store.settleNow === undefined) {
        store.settle(handle, actual, now()).catch(() => undefined);
        return;
      }
      try {
        store.settleNow(handle, actual, now());
      } catch {
        // best effort, as above
      }
    });
  }
}

/** A store failure (fail-closed, or any error): never forward unchecked, never a 500. */
function unavailable(err: unknown): unknown {
  if (GatewayError.is(err)) return err;
  const ms = (err as { retryAfterMs?: unknown }).retryAfterMs;
  const seconds = typeof ms === 'number' && ms > 0 ? Math.ceil(ms / 1000) : 1;
  return new GatewayError('GW_ERR_STATE_UNAVAILABLE', 'Limits cannot be checked right now; retry shortly.', { cause: err, headers: { 'retry-after': String(seconds) } });
}

/** The request's batch, created on first use. */
export function admissionOf(ctx: RequestContext, store: LimitStore, now: () => number): AdmissionBatch {
  if (ctx.admission instanceof AdmissionBatch) return ctx.admission;
  const batch = new AdmissionBatch(store, now);
  ctx.admission = batch;
  return batch;
}
