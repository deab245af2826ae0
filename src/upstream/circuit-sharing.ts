/**
 * Keeps circuit breakers in step across replicas through a `CircuitStore`: a trip here is
 * published (and re-sent until the store takes it), and open circuits other replicas published
 * are read every `pollMs` and opened here for the same time. Each replica still counts failures
 * on its own, as APIM's gateways do; what is shared is the decision that a backend is down, so a
 * tripped PTU is skipped by all replicas, not only the one that saw its 429.
 * @module
 */
import type { CircuitStore } from '../state/redis-circuit-store.ts';
import type { Backend } from './backend.ts';
import type { TripRecord } from './circuit-breaker.ts';

export interface CircuitSharingOptions {
  readonly store: CircuitStore;
  /** The backends with a breaker, as of the current configuration. */
  readonly backends: () => Iterable<Backend>;
  readonly clock: () => number;
  readonly pollMs: number;
  readonly onError: (message: string) => void;
  /** A call to the store succeeded (ends a run of errors: see OutageLog). */
  readonly onSuccess?: () => void;
}

export class CircuitSharing {
  readonly #opts: CircuitSharingOptions;
  /** Trips not yet accepted by the store (Redis down): re-sent on the next tick. */
  readonly #unsent = new Map<string, TripRecord | null>();
  #timer: NodeJS.Timeout | undefined;
  #polling = false;

  constructor(opts: CircuitSharingOptions) {
    this.#opts = opts;
  }

  /**
   * Polls once the store's connection is ready (or at its first connection error, or after
   * `readyTimeoutMs`: then Redis is really not there and the failures are real; a busy machine
   * may take seconds to connect, which is not a failure). Polling before that was the cause of a "circuit sharing
   * through Redis failed" at every start: the store's client (its own connection, not the limit
   * store's) was still connecting, and with ioredis's offline queue off the first MGET was
   * refused at once.
   */
  start(readyTimeoutMs = 10_000): void {
    this.#polling = true;
    this.#timer = setInterval(() => void this.#tick(), this.#opts.pollMs);
    this.#timer.unref();
    void this.#opts.store.ready(readyTimeoutMs).then(() => {
      this.#polling = false;
      if (this.#timer !== undefined) void this.#tick();
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#opts.store.close();
  }

  /** A local trip (trips that came from the store are not sent back). */
  opened(backendId: string, trip: TripRecord): void {
    if (trip.rule === 'shared') return;
    this.#send(backendId, trip);
  }

  /** A local probe succeeded: the backend is back for everyone. */
  closed(backendId: string): void {
    this.#send(backendId, null);
  }

  #send(backendId: string, trip: TripRecord | null): void {
    const store = this.#opts.store;
    const done = trip === null ? store.clear(backendId) : store.publish(backendId, trip.until, trip.reason);
    this.#unsent.delete(backendId);
    done.then(() => this.#opts.onSuccess?.(), (err: unknown) => {
      this.#unsent.set(backendId, trip);
      this.#opts.onError(`sharing the circuit of "${backendId}": ${(err as Error).message}`);
    });
  }

  async #tick(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      const now = this.#opts.clock();
      for (const [id, trip] of [...this.#unsent]) {
        if (trip === null || trip.until > now) this.#send(id, trip);
        else this.#unsent.delete(id);
      }
      const withBreaker = [...this.#opts.backends()].filter((b) => b.health.breaker !== null);
      const open = await this.#opts.store.read(withBreaker.map((b) => b.id));
      for (const b of withBreaker) {
        const shared = open.get(b.id);
        if (shared !== undefined) b.health.breaker?.openFromPeer(this.#opts.clock(), shared.until, shared.reason);
      }
      this.#opts.onSuccess?.();
    } catch (err) {
      this.#opts.onError(`reading shared circuits: ${(err as Error).message}`);
    } finally {
      this.#polling = false;
    }
  }
}
