/**
 * `increment-count` of the call limits (rate-limit, rate-limit-by-key, quota, quota-by-key). A
 * constant is reserved as it is. An expression is evaluated when the response is known, as APIM
 * does (its documented token-counting workaround reads `context.Response.Body` there): the call is
 * admitted while the counter has room for one more, and settles to what the expression says.
 * @module
 */
import type { RequestContext } from '../core/context.ts';
import type { Dyn } from '../policy-docs/values.ts';

export interface IncrementCount {
  /** What to reserve before forwarding. */
  reserve(ctx: RequestContext): number;
  /** What the request counts once it is over; `reserved` when the expression fails then. */
  settle(ctx: RequestContext, reserved: number): number;
}

export function incrementCount(count: Dyn<number>): IncrementCount {
  if (count.constant !== undefined) {
    const n = count.constant;
    return { reserve: () => n, settle: (_ctx, reserved) => reserved };
  }
  return {
    reserve: () => 1,
    settle(ctx, reserved) {
      // Settling is off the response path: an expression that fails here (a streamed answer has
      // no Body) cannot fail the request any more, so the reservation stands.
      try {
        return count(ctx);
      } catch {
        return reserved;
      }
    },
  };
}
