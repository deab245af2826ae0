/**
 * A backend's circuit breaker (APIM `circuitBreaker.rules[]`). Closed: traffic flows and every
 * outcome is counted per rule over its `interval`. A rule whose failure condition is met trips
 * the circuit open for `tripDuration` (or the failing response's Retry-After when
 * `acceptRetryAfter`). When that time is over the circuit is half-open: exactly one request, the
 * probe, is let through, and its outcome closes the circuit or opens it again. APIM documents no
 * half-open state; without one a recovering backend would get the whole load at once.
 *
 * Time is the injected wall clock (ms since the epoch) so that trips can be shared between
 * replicas and tests can move time. Client cancels are not outcomes: they never count.
 * @module
 */
import type { CircuitBreakerRule } from '../config/schema.ts';
import type { ErrorReason } from '../config/backend-schema.ts';
import { ERROR_REASONS } from '../config/backend-schema.ts';
import { SlidingCounts } from './sliding-counts.ts';

/** What one attempt to reach a backend ended with. */
export type Outcome =
  | { readonly kind: 'status'; readonly status: number; readonly retryAfterMs?: number | undefined }
  | { readonly kind: 'error'; readonly reason: ErrorReason };

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface TripRecord {
  readonly rule: string;
  /** e.g. `status 429`, `connection`, `timeout`, `stream`. */
  readonly reason: string;
  /** Epoch ms when it tripped, and until when it stays open. */
  readonly at: number;
  readonly until: number;
}

/** Percentage rules without a count need this many requests in the interval before they judge. */
export const MIN_REQUESTS_FOR_PERCENTAGE = 10;
/** Retry-After values beyond this are treated as this (a misbehaving backend cannot park itself for a week). */
const MAX_RETRY_AFTER_MS = 86_400_000;

class RuleState {
  readonly name: string;
  readonly counts: SlidingCounts;
  readonly #rule: CircuitBreakerRule;
  readonly #reasons: ReadonlySet<ErrorReason>;

  constructor(rule: CircuitBreakerRule, index: number) {
    this.#rule = rule;
    this.name = rule.name ?? `rule-${index + 1}`;
    this.counts = new SlidingCounts(rule.failureCondition.interval);
    this.#reasons = new Set(rule.failureCondition.errorReasons ?? ERROR_REASONS);
  }

  isFailure(outcome: Outcome): boolean {
    if (outcome.kind === 'error') return this.#reasons.has(outcome.reason);
    return this.#rule.failureCondition.statusCodeRanges.some((r) => outcome.status >= r.min && outcome.status <= r.max);
  }

  /** Is the failure condition met now? count: failures ≥ count; percentage: share of failures ≥ it. */
  met(now: number): boolean {
    const { count, percentage } = this.#rule.failureCondition;
    const { total, failures } = this.counts.sums(now);
    if (percentage === undefined) return failures >= (count ?? Infinity);
    const enough = count === undefined ? total >= MIN_REQUESTS_FOR_PERCENTAGE : failures >= count;
    return enough && failures * 100 >= percentage * total;
  }

  tripMs(outcome: Outcome): number {
    const retryAfter = outcome.kind === 'status' ? outcome.retryAfterMs : undefined;
    if (this.#rule.acceptRetryAfter && retryAfter !== undefined && retryAfter > 0) return Math.min(retryAfter, MAX_RETRY_AFTER_MS);
    return this.#rule.tripDuration;
  }
}

export type Admission = 'normal' | 'probe' | null;

export interface BreakerEvents {
  opened(trip: TripRecord): void;
  closed(): void;
}

export class CircuitBreaker {
  readonly #rules: readonly RuleState[];
  /** How long a probe may stay unanswered before another request may probe instead. */
  readonly #probeTimeoutMs: number;
  readonly #events: BreakerEvents | undefined;
  /** 0 while closed; else the epoch ms when the open period ends (half-open after it). */
  #openUntil = 0;
  /** While a probe is out: when it is considered lost. */
  #probeDeadline = 0;
  lastTrip: TripRecord | null = null;
  trips = 0;

  constructor(rules: readonly CircuitBreakerRule[], probeTimeoutMs: number, events?: BreakerEvents) {
    this.#rules = rules.map((r, i) => new RuleState(r, i));
    this.#probeTimeoutMs = probeTimeoutMs;
    this.#events = events;
  }

  state(now: number): BreakerState {
    if (this.#openUntil === 0) return 'closed';
    return now < this.#openUntil ? 'open' : 'half-open';
  }

  /** Epoch ms the open period ends, or 0 when closed. */
  get openUntil(): number {
    return this.#openUntil;
  }

  /** 0 when a request may be sent now; otherwise about how long until one may. */
  waitMs(now: number): number {
    if (this.#openUntil === 0) return 0;
    if (now < this.#openUntil) return this.#openUntil - now;
    return now < this.#probeDeadline ? this.#probeDeadline - now : 0;
  }

  /** Takes the right to send one request now: `probe` for the half-open trial, null when it may not. */
  admit(now: number): Admission {
    if (this.#openUntil === 0) return 'normal';
    if (now < this.#openUntil || now < this.#probeDeadline) return null;
    this.#probeDeadline = now + this.#probeTimeoutMs;
    return 'probe';
  }

  /** A probe that ended without an outcome (the client went away): let the next request probe. */
  release(admission: Admission): void {
    if (admission === 'probe') this.#probeDeadline = 0;
  }

  record(now: number, outcome: Outcome, admission: Admission): void {
    let failing: RuleState | null = null;
    for (const rule of this.#rules) {
      const failed = rule.isFailure(outcome);
      rule.counts.add(now, failed);
      if (failed) failing ??= rule;
    }
    if (admission === 'probe') {
      this.#probeDeadline = 0;
      if (failing === null) this.#close();
      else this.#trip(now, failing, outcome);
      return;
    }
    // Answers to requests sent before the circuit opened do not move it again.
    if (this.#openUntil !== 0 || failing === null) return;
    for (const rule of this.#rules) {
      if (rule.isFailure(outcome) && rule.met(now)) {
        this.#trip(now, rule, outcome);
        return;
      }
    }
  }

  /**
   * Opens the circuit until `until` because another replica tripped it (shared state). Ignored
   * when this breaker is already open for at least that long.
   */
  openFromPeer(now: number, until: number, reason: string): void {
    if (until <= now || until <= this.#openUntil) return;
    this.#openUntil = until;
    this.#probeDeadline = 0;
    this.trips++;
    this.lastTrip = { rule: 'shared', reason, at: now, until };
    this.#events?.opened(this.lastTrip);
  }

  #trip(now: number, rule: RuleState, outcome: Outcome): void {
    const until = now + rule.tripMs(outcome);
    this.#openUntil = until;
    this.trips++;
    this.lastTrip = { rule: rule.name, reason: outcome.kind === 'status' ? `status ${outcome.status}` : outcome.reason, at: now, until };
    this.#events?.opened(this.lastTrip);
  }

  #close(): void {
    this.#openUntil = 0;
    for (const rule of this.#rules) rule.counts.reset();
    this.#events?.closed();
  }
}
