/**
 * The Redis LimitStore: limits shared by every gateway replica. `reserve` is ONE script call for
 * all the counters of a request (check all, then reserve on all or none); `settle` is queued and
 * carried by the next reserve (or sent alone within 20 ms when none comes), so a request costs
 * one round trip under load. Both are atomic in Redis, so N replicas admit exactly what one
 * process would (RELIABILITY A1, A2); a queued settle is visible to other replicas within 20 ms. The same holds
 * on a Redis Cluster (A8): every key of a store shares one hash tag (see "Keys" below), and ioredis
 * follows MOVED/ASK redirections and slot-map changes.
 *
 * Results match MemoryLimitStore call for call: the caller's `now` decides windows (Redis TIME is
 * never used), so replicas need synchronized clocks (NTP). A replica whose clock is s seconds off
 * sees sliding windows and fixed-window edges shifted by s.
 *
 * Failure handling (RELIABILITY A5–A7): every command has a short timeout, a dead connection fails
 * at once (no offline queue; timeouts tolerate event-loop lag, see deadlines.ts), and a breaker stops calling Redis after consecutive failures. Then
 * `failMode: 'open'` answers from a bounded local MemoryLimitStore where each replica enforces
 * limit/replicas, and `'closed'` rejects with `GW_ERR_STATE_UNAVAILABLE` (503 + Retry-After).
 * While the breaker is open a background probe checks Redis every 200 ms (and at once on
 * reconnect), so shared enforcement resumes well within A5's 1 s of Redis answering again.
 * A command that timed out against a frozen Redis may still run when it thaws: that reservation
 * is then counted although the request was answered otherwise. It over-counts (the safe side)
 * and goes away with its window; replaying it instead could count it twice.
 * @module
 */
import { bucketOf, type CounterRequest, type LimitStore, type Reservation, type ReservationHandle } from './limit-store.ts';
import { MemoryLimitStore } from './memory-limit-store.ts';
import { RESERVE_SCRIPT, amount, limitArg, packFields, toReservation, unpackReply, type LuaScript } from './redis-scripts.ts';
import { Breaker } from './breaker.ts';
import { createRedisClient, onConnectionError, writeCoalescer, type RedisClient } from './redis-client.ts';
import { CommandTimeoutError, Deadlines } from './deadlines.ts';
import { withTimeout } from '../util/with-timeout.ts';

export type RedisLimitStoreEvent = {
  /** `recovered`: the first command that succeeded after an `error` or `breaker-open`. */
  readonly type: 'fallback' | 'breaker-open' | 'breaker-close' | 'script-reload' | 'error' | 'recovered';
  readonly detail?: string;
};

export interface RedisLimitStoreOptions {
  /** `redis://[user:password@]host:port[/db]`: the server, or a cluster seed node. */
  readonly url?: string;
  /** Cluster seed nodes (any number of the cluster's nodes; the rest are discovered). */
  readonly urls?: readonly string[];
  /** Connect to a Redis Cluster (ioredis `Cluster`) instead of one server. Default false. */
  readonly cluster?: boolean;
  /**
   * Namespace of every key, and the hash tag of all of them (see "Keys" below); non-empty, no
   * `{` or `}`. Default `tollgate:`.
   */
  readonly keyPrefix?: string;
  /** Timeout of every Redis command. Default 20 ms (RELIABILITY A5). */
  readonly commandTimeoutMs?: number;
  readonly failMode: 'open' | 'closed';
  /** Replicas sharing the limits: the fail-open fallback enforces ceil(limit / replicas). Default 1. */
  readonly replicas?: number;
  /** Consecutive failures that open the breaker (default 5), and how long it stays open (1000 ms). */
  readonly breaker?: { readonly failures?: number; readonly openMs?: number };
  /** Clock of the breaker (not of the windows: those use the `now` given to each call). */
  readonly now?: () => number;
  readonly onEvent?: (e: RedisLimitStoreEvent) => void;
  /** Counters the fail-open fallback keeps at most. Default 50,000. */
  readonly fallbackMaxCounters?: number;
}

/** Redis is unreachable (or its breaker is open) and `failMode` is `closed`. */
export class StateUnavailableError extends Error {
  readonly code = 'GW_ERR_STATE_UNAVAILABLE' as const;
  /** When a retry may succeed (the breaker's remaining open time). */
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'StateUnavailableError';
    this.retryAfterMs = retryAfterMs;
  }
}

/** Headroom added to sliding-window TTLs for clock skew between replicas; A11 caps TTLs at window + 1 s. */
const TTL_SLACK_MS = 1000;
/**
 * While the breaker is open, a background no-op script call checks Redis this often, so shared
 * enforcement resumes within this interval of Redis answering again (a frozen Redis never drops
 * the connection, so no reconnect would tell us) and no client request pays a probe's timeout.
 */
const PROBE_INTERVAL_MS = 200;
/** A queued settle waits at most this long for a reserve to carry it (other replicas see it then). */
const SETTLE_FLUSH_MS = 20;
/** Settle operations queued at most before they are sent on their own. */
const MAX_PENDING_SETTLES = 256;

/**
 * @example
 * const store = new RedisLimitStore({ url: 'redis://127.0.0.1:6379', failMode: 'open', replicas: 3 });
 * const r = await store.reserve([{ key: 'tpm:sub-1', window: { kind: 'sliding', windowMs: 60_000, bucketMs: 1000 }, limit: 10_000, cost: 900 }], Date.now());
 * if (r.admitted && r.handle) await store.settle(r.handle, [640], Date.now());
 */
export class RedisLimitStore implements LimitStore {
  /**
   * Redis commands sent for reserve/settle (EVALSHA, plus EVAL after a NOSCRIPT), script reloads,
   * answers from the fail-open fallback, and background probes sent while the breaker was open.
   */
  readonly stats = { roundTrips: 0, scriptReloads: 0, fallbacks: 0, probes: 0 };

  readonly #redis: RedisClient;
  readonly #deadlines: Deadlines;
  /** Call before each command: the commands of one event-loop turn leave in one write. */
  readonly #coalesce: () => void;
  /** `{<keyPrefix>}`: the start of every key, and its hash tag. */
  readonly #tag: string;
  readonly #failMode: 'open' | 'closed';
  readonly #replicas: number;
  readonly #fallback: MemoryLimitStore;
  /** Reservations the fallback made: their settle goes to the fallback too. */
  readonly #fallbackHandles = new WeakSet<ReservationHandle>();
  readonly #breaker: Breaker;
  readonly #onEvent: (e: RedisLimitStoreEvent) => void;
  #probeTimer: NodeJS.Timeout | undefined;
  #pending: { keys: string[]; args: string[] } = { keys: [], args: [] };
  #flushTimer: NodeJS.Timeout | undefined;
  #probing = false;
  /** When the last timeout the breaker counted was detected (the Deadlines' clock). */
  #timeoutCountedAt = -Infinity;
  /** An `error` or `breaker-open` was reported and no command has succeeded since. */
  #degraded = false;

  constructor(opts: RedisLimitStoreOptions) {
    const prefix = opts.keyPrefix ?? 'tollgate:';
    if (prefix === '' || /[{}]/.test(prefix)) throw new Error(`keyPrefix must be non-empty, without '{' or '}' (it is the hash tag): ${prefix}`);
    this.#tag = `{${prefix}}`;
    this.#failMode = opts.failMode;
    this.#replicas = Math.max(1, Math.floor(opts.replicas ?? 1));
    this.#fallback = new MemoryLimitStore({ maxCounters: opts.fallbackMaxCounters ?? 50_000 });
    const listener = opts.onEvent;
    this.#onEvent = (e) => {
      if (e.type === 'error' || e.type === 'breaker-open') this.#degraded = true;
      try {
        listener?.(e);
      } catch {
        // A faulty listener must not turn a limit decision into an error.
      }
    };
    this.#breaker = new Breaker(opts.breaker?.failures ?? 5, opts.breaker?.openMs ?? 1000, opts.now ?? Date.now, this.#onEvent);
    this.#deadlines = new Deadlines(opts.commandTimeoutMs ?? 20);
    this.#redis = createRedisClient({ urls: opts.urls ?? (opts.url === undefined ? [] : [opts.url]), cluster: opts.cluster ?? false });
    const deadlines = this.#deadlines;
    this.#coalesce = writeCoalescer(this.#redis, () => deadlines.sent());
    onConnectionError(this.#redis, (message) => this.#onEvent({ type: 'error', detail: `redis connection: ${message}` }));
    this.#redis.on('ready', () => {
      // Reconnected after a restart: probe now instead of at the next interval.
      if (this.#breaker.isOpen) void this.#probe();
    });
  }

  /** Resolves true once connected (or false after `timeoutMs`); calls before that use the fail mode. */
  async ready(timeoutMs = 2000): Promise<boolean> {
    if (this.#redis.status === 'ready') return true;
    let timer: NodeJS.Timeout | undefined;
    let onReady: (() => void) | undefined;
    try {
      return await new Promise<boolean>((resolve) => {
        onReady = () => resolve(true);
        this.#redis.once('ready', onReady);
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
    } finally {
      clearTimeout(timer);
      if (onReady !== undefined) this.#redis.removeListener('ready', onReady);
    }
  }

  async reserve(requests: readonly CounterRequest[], now: number): Promise<Reservation> {
    if (requests.length === 0) return { admitted: true, counters: [], refusedBy: -1, handle: { at: now, requests } };
    if (!this.#breaker.allow()) return this.#unavailable(requests, now, 'breaker open', undefined);
    const keys: string[] = [];
    const args: string[] = [];
    for (const r of requests) {
      const cost = String(amount(r.cost));
      const limit = limitArg(r.limit);
      if (r.window.kind === 'sliding') {
        const { windowMs, bucketMs } = r.window;
        keys.push(this.#slidingKey(r.key));
        const ttl = Math.ceil(windowMs + Math.min(bucketMs, TTL_SLACK_MS));
        args.push('s', limit, cost, String(bucketOf(now - windowMs, bucketMs) + 1), String(bucketOf(now, bucketMs)), String(ttl));
      } else {
        const { startMs, endMs } = r.window;
        keys.push(this.#fixedKey(r.key, startMs));
        const ttl = Math.max(1, Math.ceil(Math.min(endMs - now, endMs - startMs))) + TTL_SLACK_MS;
        args.push('f', limit, cost, now < endMs ? '1' : '0', String(ttl), '');
      }
    }
    // Settles waiting to be sent ride on this call (one round trip for both).
    const carried = this.#takePending();
    let reply: string[];
    try {
      reply = await this.#run(RESERVE_SCRIPT, [...carried.keys, ...keys], [String(carried.keys.length), ...carried.args, ...args]);
      this.#succeeded();
    } catch (err) {
      this.#failed(err);
      if (carried.keys.length > 0) this.#onEvent({ type: 'error', detail: `settles lost with a failed reserve: ${carried.keys.length}` });
      this.#onEvent({ type: 'error', detail: `reserve: ${errorMessage(err)}` });
      return this.#unavailable(requests, now, 'redis error', err);
    }
    return toReservation(reply, requests, now);
  }

  async settle(handle: ReservationHandle, actual: readonly number[], now: number): Promise<void> {
    if (this.#fallbackHandles.has(handle)) {
      await this.#fallback.settle(handle, actual, now);
      return;
    }
    const keys: string[] = [];
    const args: string[] = [];
    handle.requests.forEach((r, i) => {
      const reserved = amount(r.cost);
      const delta = amount(actual[i] ?? reserved) - reserved;
      if (delta === 0) return;
      // Windows that are over are left alone (as in the memory store): no call for them.
      if (r.window.kind === 'sliding') {
        if (now - handle.at >= r.window.windowMs) return;
        keys.push(this.#slidingKey(r.key));
        args.push('s', String(delta), String(bucketOf(handle.at, r.window.bucketMs)));
      } else {
        if (now >= r.window.endMs) return;
        keys.push(this.#fixedKey(r.key, r.window.startMs));
        args.push('f', String(delta), '');
      }
    });
    if (keys.length === 0) return;
    // Queued: the next reserve carries it (no round trip of its own under load); when no reserve
    // comes within SETTLE_FLUSH_MS, or the queue is full, it is sent alone.
    this.#pending.keys.push(...keys);
    this.#pending.args.push(...args);
    if (this.#pending.keys.length >= MAX_PENDING_SETTLES) {
      await this.flush();
      return;
    }
    if (this.#flushTimer === undefined) {
      this.#flushTimer = setTimeout(() => void this.flush(), SETTLE_FLUSH_MS);
      this.#flushTimer.unref();
    }
  }

  /** Sends queued settles now (also on close). Never throws. */
  async flush(): Promise<void> {
    const { keys, args } = this.#takePending();
    if (keys.length === 0) return;
    // A lost settle leaves the reservation counted until its window ends: over-counting, the safe side.
    if (!this.#breaker.allow()) {
      this.#onEvent({ type: 'error', detail: 'settle skipped: breaker open' });
      return;
    }
    try {
      await this.#run(RESERVE_SCRIPT, keys, [String(keys.length), ...args]);
      this.#succeeded();
    } catch (err) {
      this.#failed(err);
      this.#onEvent({ type: 'error', detail: `settle: ${errorMessage(err)}` });
    }
  }

  #takePending(): { keys: string[]; args: string[] } {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const taken = this.#pending;
    this.#pending = { keys: [], args: [] };
    return taken;
  }

  async close(): Promise<void> {
    if (this.#redis.status === 'ready') await this.flush();
    clearInterval(this.#probeTimer);
    this.#probeTimer = undefined;
    await this.#fallback.close();
    if (this.#redis.status === 'end') return;
    try {
      await withTimeout(this.#redis.quit(), 1000, 'timeout');
    } catch {
      // QUIT could not be sent or answered (Redis down or frozen): drop the socket instead.
    }
    this.#redis.disconnect(false);
  }

  #succeeded(): void {
    this.#breaker.success();
    if (!this.#degraded) return;
    this.#degraded = false;
    this.#onEvent({ type: 'recovered' });
  }

  #failed(err: unknown): void {
    // The commands in flight when Redis went quiet all time out together (32 of them at c=32),
    // but they are one observation of one silence: counted one by one, a single stall of a few
    // tens of ms (redis-server not scheduled on a saturated machine) opened the breaker and sent
    // every request of the next second to the fallback (~650 fallbacks for ~40 timeouts in the
    // bench). A timeout counts only if its command was written after the last counted timeout
    // was detected, so a frozen Redis still opens the breaker after 5 timeouts in a row (about
    // 5 x commandTimeoutMs under load), and other errors count one by one as before.
    if (err instanceof CommandTimeoutError) {
      if (err.sentAt < this.#timeoutCountedAt) return;
      this.#timeoutCountedAt = err.detectedAt;
    }
    this.#breaker.failure();
    if (!this.#breaker.isOpen || this.#probeTimer !== undefined) return;
    this.#probeTimer = setInterval(() => void this.#probe(), PROBE_INTERVAL_MS);
    this.#probeTimer.unref();
  }

  /** The reserve script with no counters: a no-op that checks the connection and the script cache. */
  async #probe(): Promise<void> {
    if (this.#probing || this.#redis.status === 'end') return;
    if (!this.#breaker.isOpen) {
      clearInterval(this.#probeTimer);
      this.#probeTimer = undefined;
      return;
    }
    this.#probing = true;
    this.stats.probes++;
    try {
      // One settle of 0 on a key that never exists: a no-op, but keyed, so that in a cluster it
      // goes to the node that owns our slot (an unkeyed call would go to any node).
      await this.#run(RESERVE_SCRIPT, [`${this.#tag}probe`], ['1', 'f', '0', ''], false);
      this.#succeeded();
      clearInterval(this.#probeTimer);
      this.#probeTimer = undefined;
    } catch {
      // Still down; the breaker stays open and the next interval tries again.
    } finally {
      this.#probing = false;
    }
  }

  /**
   * EVALSHA; on NOSCRIPT (after SCRIPT FLUSH or a restart) EVAL, which also re-caches the script.
   * The fields travel packed in one argument (see redis-scripts.ts), and the answer is unpacked.
   */
  async #run(script: LuaScript, keys: readonly string[], fields: readonly string[], counted = true): Promise<string[]> {
    if (counted) this.stats.roundTrips++;
    this.#coalesce();
    const packed = packFields(fields);
    let reply: unknown;
    try {
      reply = await this.#deadlines.within(this.#redis.evalsha(script.sha, keys.length, ...keys, packed));
    } catch (err) {
      if (!errorMessage(err).startsWith('NOSCRIPT')) throw err;
      this.stats.scriptReloads++;
      this.#onEvent({ type: 'script-reload', detail: script.sha });
      if (counted) this.stats.roundTrips++;
      reply = await this.#deadlines.within(this.#redis.eval(script.lua, keys.length, ...keys, packed));
    }
    return unpackReply(reply);
  }

  async #unavailable(requests: readonly CounterRequest[], now: number, reason: string, cause: unknown): Promise<Reservation> {
    if (this.#failMode === 'closed') {
      throw new StateUnavailableError(`limit state unavailable (${reason})`, this.#breaker.retryAfterMs(), cause);
    }
    this.stats.fallbacks++;
    this.#onEvent({ type: 'fallback', detail: reason });
    const n = this.#replicas;
    const local = requests.map((r) => ({ ...r, limit: r.limit > 0 ? Math.max(1, Math.ceil(r.limit / n)) : r.limit }));
    const res = await this.#fallback.reserve(local, now);
    if (res.handle === null) return res;
    const handle: ReservationHandle = { at: res.handle.at, requests };
    this.#fallbackHandles.add(handle);
    return { ...res, handle };
  }

  /*
   * Keys: `{<prefix>}s:<key>` (sliding hash) and `{<prefix>}f:<startMs>:<key>` (fixed). The whole
   * prefix is the hash tag, so every key of a store is in ONE cluster slot. That is what keeps a
   * request at one atomic script call in a cluster: a script may only touch keys of one slot, and
   * one call holds every counter of the request (a token limit per subscription and a rate limit
   * per IP have unrelated keys) plus the settles of OTHER requests riding along. Tagging per
   * counter key (RELIABILITY A8's "per key-id") would spread counters over the primaries, but then
   * a request with counters on two keys could not be checked all-or-nothing (two calls: a
   * reservation made on one slot and refused on the other must be undone, and races in between),
   * and a settle could ride only on a reservation of its own slot (about two round trips per
   * request). The cost of one slot: all limit traffic of the gateways sharing a prefix goes to one
   * primary (its replica takes over on failover); the others carry none of it. Gateways (or groups
   * of APIs) with different `keyPrefix`es land on different slots.
   */
  #slidingKey(key: string): string {
    return `${this.#tag}s:${key}`;
  }

  #fixedKey(key: string, startMs: number): string {
    return `${this.#tag}f:${startMs}:${key}`;
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
