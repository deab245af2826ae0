/**
 * Open circuits shared through Redis, so that a backend one replica has tripped is skipped by
 * every replica (DESIGN: "counters, limits, breakers" live in Redis when it is configured).
 *
 * One key per open circuit, `{<keyPrefix>}c:<backend id>`, holding `<until ms>|<reason>` and
 * expiring when the circuit's open time ends (PXAT): an expired key is a closed circuit, so
 * nothing needs cleaning up. The hash tag is the limit store's (see docs/limits.md), so every
 * circuit key is in one Redis Cluster slot and one MGET reads them all.
 *
 * Off the request path: trips are written when they happen, and each replica reads the open
 * circuits on a timer. Every call has a timeout; on failure (fail-open) each replica keeps its
 * own breakers, which is what a gateway without Redis does.
 * @module
 */
import { createRedisClient, onConnectionError, whenReady, type RedisClient } from './redis-client.ts';
import { Deadlines } from './deadlines.ts';

export interface SharedCircuit {
  readonly until: number;
  readonly reason: string;
}

export interface CircuitStore {
  /** Records that `backendId`'s circuit is open until `until` (epoch ms). */
  publish(backendId: string, until: number, reason: string): Promise<void>;
  /** The backend recovered (a probe succeeded): its shared open state ends now. */
  clear(backendId: string): Promise<void>;
  /** Open circuits among `backendIds`. */
  read(backendIds: readonly string[]): Promise<Map<string, SharedCircuit>>;
  /**
   * Resolves true once connected; false at the first connection error (Redis is really not
   * there) or after `timeoutMs`. Calls before it resolves would fail at once.
   */
  ready(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface RedisCircuitStoreOptions {
  /** One URL, or cluster seed nodes. */
  readonly urls: readonly string[];
  readonly cluster: boolean;
  readonly keyPrefix: string;
  /** Timeout of each call (they are off the request path, so it may be longer than the limits'). */
  readonly commandTimeoutMs: number;
  readonly onError?: (message: string) => void;
}

export class RedisCircuitStore implements CircuitStore {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #deadlines: Deadlines;

  constructor(opts: RedisCircuitStoreOptions) {
    this.#prefix = `{${opts.keyPrefix}}c:`;
    this.#deadlines = new Deadlines(opts.commandTimeoutMs);
    this.#redis = createRedisClient({ urls: opts.urls, cluster: opts.cluster });
    onConnectionError(this.#redis, (message) => opts.onError?.(message));
  }

  async publish(backendId: string, until: number, reason: string): Promise<void> {
    await this.#bounded(this.#redis.set(this.#prefix + backendId, `${until}|${reason}`, 'PXAT', Math.ceil(until)));
  }

  async clear(backendId: string): Promise<void> {
    await this.#bounded(this.#redis.del(this.#prefix + backendId));
  }

  async read(backendIds: readonly string[]): Promise<Map<string, SharedCircuit>> {
    const open = new Map<string, SharedCircuit>();
    if (backendIds.length === 0) return open;
    const values = await this.#bounded(this.#redis.mget(...backendIds.map((id) => this.#prefix + id)));
    values.forEach((value, i) => {
      if (value === null) return;
      const bar = value.indexOf('|');
      const until = Number(value.slice(0, bar));
      if (bar > 0 && Number.isFinite(until)) open.set(backendIds[i] as string, { until, reason: value.slice(bar + 1) });
    });
    return open;
  }

  ready(timeoutMs: number): Promise<boolean> {
    return whenReady(this.#redis, timeoutMs);
  }

  /** The client has no command timeout of its own: the store's deadlines bound every call. */
  #bounded<T>(call: Promise<T>): Promise<T> {
    const bounded = this.#deadlines.within(call);
    this.#deadlines.sent(); // not corked: the command is written now
    return bounded;
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
    return Promise.resolve();
  }
}
