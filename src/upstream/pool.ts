/**
 * Backend selection (APIM's backend pools). Every configured backend id resolves to a
 * `BackendPool`: a pool's members, or a single backend as a pool of one, so forward-request has
 * one mechanism for both.
 *
 * Selection, as APIM documents it: the lowest priority number first; among members of equal
 * priority, by weight (smooth weighted round-robin, so a 3:1 split is exact over every 4 requests
 * rather than only on average; equal weights are plain round-robin); a lower-priority group only
 * when every member of the higher groups is unavailable. Beyond APIM: members the current request
 * already failed on, and members whose rate-limit headers said they are about to run out, are
 * avoided while another member is available, but used rather than answering 503.
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ErrorReason } from '../config/backend-schema.ts';
import type { Backend } from './backend.ts';
import type { Admission, Outcome } from './circuit-breaker.ts';

interface Member {
  readonly backend: Backend;
  readonly priority: number;
  readonly weight: number;
  /** Smooth weighted round-robin state (nginx's algorithm). */
  current: number;
}

/** One try of one backend; reports its outcome to the backend's health exactly once. */
export class Attempt {
  readonly backend: Backend;
  readonly #admission: Admission;
  readonly #clock: () => number;
  #settled = false;
  #status = 0;

  constructor(backend: Backend, admission: Admission, clock: () => number) {
    this.backend = backend;
    this.#admission = admission;
    this.#clock = clock;
  }

  /**
   * The backend answered with headers. An error status is the attempt's outcome at once (it is
   * settled, with its Retry-After); otherwise the attempt stays open until its body is delivered.
   */
  answered(status: number, headers: IncomingHttpHeaders): void {
    const health = this.backend.health;
    const now = this.#clock();
    this.#status = status;
    if (this.backend.rateLimitHeaders !== undefined) health.noteRateLimitHeaders(now, headers, this.backend.rateLimitHeaders);
    if (status < 400) return;
    this.#settle({ kind: 'status', status, retryAfterMs: retryAfterMs(headers, now) });
  }

  /** The body was delivered (or is no longer wanted): the answered status is the outcome. No-op once settled. */
  succeeded(): void {
    this.#settle({ kind: 'status', status: this.#status });
  }

  failed(reason: ErrorReason): void {
    this.#settle({ kind: 'error', reason });
  }

  /** The client went away: no outcome, and a half-open probe slot is freed for the next request. */
  cancelled(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.backend.health.release(this.#admission);
  }

  get settled(): boolean {
    return this.#settled;
  }

  #settle(outcome: Outcome): void {
    if (this.#settled) return;
    this.#settled = true;
    this.backend.health.record(this.#clock(), outcome, this.#admission);
  }
}

export class BackendPool {
  readonly id: string;
  /** False for a single backend (a pool of one). */
  readonly isPool: boolean;
  /** Members by priority, highest first (lowest number). */
  readonly #groups: readonly (readonly Member[])[];
  readonly #members: readonly Member[];

  constructor(id: string, isPool: boolean, members: ReadonlyArray<{ backend: Backend; priority: number; weight: number }>) {
    this.id = id;
    this.isPool = isPool;
    this.#members = members.map((m) => ({ ...m, current: 0 }));
    const byPriority = new Map<number, Member[]>();
    for (const m of this.#members) {
      if (m.weight === 0) continue; // drained
      const group = byPriority.get(m.priority) ?? [];
      group.push(m);
      byPriority.set(m.priority, group);
    }
    this.#groups = [...byPriority.entries()].sort((a, b) => a[0] - b[0]).map(([, g]) => g);
  }

  get members(): ReadonlyArray<{ readonly backend: Backend; readonly priority: number; readonly weight: number }> {
    return this.#members;
  }

  /**
   * Picks a member for one attempt, or returns how long (ms) until one is expected back when every
   * member's circuit is open. `avoid` holds ids of members this request already failed on.
   */
  select(now: number, avoid: ReadonlySet<string> | null, clock: () => number): Attempt | number {
    return this.#pick(now, avoid, clock, true) ?? this.#pick(now, avoid, clock, false) ?? this.#waitMs(now);
  }

  #pick(now: number, avoid: ReadonlySet<string> | null, clock: () => number, strict: boolean): Attempt | null {
    for (const group of this.#groups) {
      let total = 0;
      let best: Member | null = null;
      for (const m of group) {
        const health = m.backend.health;
        if (health.waitMs(now) > 0) continue;
        if (strict && (health.exhaustedUntil > now || avoid?.has(m.backend.id) === true)) continue;
        m.current += m.weight;
        total += m.weight;
        if (best === null || m.current > best.current) best = m;
      }
      if (best === null) continue;
      best.current -= total;
      const admission = best.backend.health.admit(now);
      // waitMs said yes, so admit does too (single-threaded); be safe anyway.
      if (admission !== null) return new Attempt(best.backend, admission, clock);
    }
    return null;
  }

  #waitMs(now: number): number {
    let wait = Infinity;
    for (const group of this.#groups) for (const m of group) wait = Math.min(wait, m.backend.health.waitMs(now));
    // Every member drained (weight 0): nothing will come back by itself.
    return Number.isFinite(wait) ? Math.max(wait, 1) : 60_000;
  }
}

/** `retry-after-ms` (Azure OpenAI), else `Retry-After` in seconds or as an HTTP date. */
export function retryAfterMs(headers: IncomingHttpHeaders, now: number): number | undefined {
  const ms = Number(headers['retry-after-ms']);
  if (Number.isFinite(ms) && ms > 0) return ms;
  const raw = headers['retry-after'];
  if (typeof raw !== 'string' || raw === '') return undefined;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim()) * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
