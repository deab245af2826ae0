/**
 * What the gateway knows about a backend's health: its circuit breaker, its recent error rate,
 * and whether its own rate-limit headers said it is about to run out. Health outlives
 * configuration reloads (a reload must not close an open circuit), so it is kept in a registry
 * created once per process and handed to each new runtime.
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { BackendConfig } from '../config/schema.ts';
import { CircuitBreaker, type Admission, type BreakerEvents, type BreakerState, type Outcome, type TripRecord } from './circuit-breaker.ts';
import { SlidingCounts } from './sliding-counts.ts';

/** The window of the error rate shown by /status. */
const RECENT_MS = 60_000;

export interface BackendStatus {
  readonly state: BreakerState | 'none';
  /** Seconds until the circuit may take traffic again (0 when it can now). */
  readonly retryInSeconds: number;
  readonly lastTrip: (Omit<TripRecord, 'at' | 'until'> & { at: string; until: string }) | null;
  readonly trips: number;
  /** Requests and failures (5xx, 429, transport errors) over the last minute. */
  readonly recent: { readonly requests: number; readonly failures: number; readonly errorRate: number };
  /** Until when its rate-limit headers keep it skipped (ISO time), or null. */
  readonly skippedUntil: string | null;
}

/** A status that says the backend is failing (not the client's request): 5xx, or 429 (out of capacity). */
export function isFailureStatus(status: number): boolean {
  return status >= 500 || status === 429;
}

export class BackendHealth {
  readonly breaker: CircuitBreaker | null;
  readonly recent = new SlidingCounts(RECENT_MS);
  /** Epoch ms until which the backend's rate-limit headers keep it out of selection. */
  exhaustedUntil = 0;
  readonly fingerprint: string;

  constructor(cfg: BackendConfig, fingerprint: string, events: BreakerEvents | undefined) {
    this.fingerprint = fingerprint;
    const rules = cfg.circuitBreaker?.rules;
    // A probe nobody answers (lost) frees the slot after the longest a request may wait for headers.
    const probeTimeoutMs = cfg.timeouts.connectMs + cfg.timeouts.responseHeadersMs;
    this.breaker = rules === undefined ? null : new CircuitBreaker(rules, probeTimeoutMs, events);
  }

  waitMs(now: number): number {
    return this.breaker?.waitMs(now) ?? 0;
  }

  admit(now: number): Admission {
    return this.breaker === null ? 'normal' : this.breaker.admit(now);
  }

  record(now: number, outcome: Outcome, admission: Admission): void {
    const failed = outcome.kind === 'error' || isFailureStatus(outcome.status);
    this.recent.add(now, failed);
    this.breaker?.record(now, outcome, admission);
  }

  release(admission: Admission): void {
    this.breaker?.release(admission);
  }

  status(now: number): BackendStatus {
    const { total, failures } = this.recent.sums(now);
    const trip = this.breaker?.lastTrip ?? null;
    return {
      state: this.breaker?.state(now) ?? 'none',
      retryInSeconds: Math.ceil(this.waitMs(now) / 1000),
      lastTrip: trip === null ? null : { rule: trip.rule, reason: trip.reason, at: new Date(trip.at).toISOString(), until: new Date(trip.until).toISOString() },
      trips: this.breaker?.trips ?? 0,
      recent: { requests: total, failures, errorRate: total === 0 ? 0 : Math.round((failures / total) * 1000) / 1000 },
      skippedUntil: this.exhaustedUntil > now ? new Date(this.exhaustedUntil).toISOString() : null,
    };
  }

  /**
   * Reads `x-ratelimit-remaining-tokens` / `-requests` (Azure OpenAI and OpenAI send them) and
   * skips the backend while they are below the configured floor: until the matching
   * `x-ratelimit-reset-*` when the backend sends one, else for `skipMs`.
   */
  noteRateLimitHeaders(now: number, headers: IncomingHttpHeaders, cfg: NonNullable<BackendConfig['rateLimitHeaders']>): void {
    let skipMs = 0;
    for (const [kind, floor] of [
      ['tokens', cfg.minRemainingTokens],
      ['requests', cfg.minRemainingRequests],
    ] as const) {
      if (floor === undefined) continue;
      const remaining = Number(headers[`x-ratelimit-remaining-${kind}`]);
      if (!Number.isFinite(remaining) || remaining >= floor) continue;
      skipMs = Math.max(skipMs, parseResetMs(headers[`x-ratelimit-reset-${kind}`]) ?? cfg.skipMs);
    }
    if (skipMs > 0) this.exhaustedUntil = Math.max(this.exhaustedUntil, now + Math.min(skipMs, 600_000));
  }
}

/** OpenAI's reset format: `1s`, `6m0s`, `120ms`, `1h2m3.5s`; a bare number is seconds. */
export function parseResetMs(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const unit = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
  let ms = 0;
  let rest = value;
  for (;;) {
    const m = /^(\d+(?:\.\d+)?)(ms|h|m|s)/.exec(rest);
    if (m === null) break;
    ms += Number(m[1]) * unit[m[2] as keyof typeof unit];
    rest = rest.slice(m[0].length);
  }
  return rest === '' && ms > 0 ? ms : undefined;
}

/** Health per backend id, kept across reloads while the backend's breaker rules stay the same. */
export class HealthRegistry {
  readonly #health = new Map<string, BackendHealth>();
  readonly #events: ((backendId: string) => BreakerEvents) | undefined;

  constructor(events?: (backendId: string) => BreakerEvents) {
    this.#events = events;
  }

  get(id: string, cfg: BackendConfig): BackendHealth {
    const fingerprint = JSON.stringify([cfg.circuitBreaker ?? null, cfg.timeouts]);
    const existing = this.#health.get(id);
    if (existing?.fingerprint === fingerprint) return existing;
    const health = new BackendHealth(cfg, fingerprint, this.#events?.(id));
    this.#health.set(id, health);
    return health;
  }
}
