/**
 * Cached answers shared by every replica through Redis. Plain Redis 7 has no vector search, so
 * the search stays local: every replica keeps the whole cache in its own index, and a Redis
 * stream (`{prefix}cache:entries`, capped at the cache's entry bound) carries each stored entry
 * to the others. A replica appends what it stores (XADD) and tails the stream (blocking XREAD on
 * its own connection), so an entry stored on replica A is a hit on replica B a few milliseconds
 * later; a replica that starts reads the stream from the beginning and so starts warm.
 * Redis down or slow (every call has a timeout): stores stay local, lookups still answer from the
 * local copy, and the tail resumes from where it stopped once Redis is back; the gateway's
 * OutageLog reports it once when it starts failing and once when it recovers. Nothing fails a request.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { withTimeout } from '../util/with-timeout.ts';
import { createRedisClient, onConnectionError, whenReady, type RedisClient } from '../state/redis-client.ts';
import type { ExactResponseStore, StoredResponse } from './exact-store.ts';
import type { SemanticCache, StoredEntry } from './semantic-store.ts';

export interface CacheSharingOptions {
  readonly urls: readonly string[];
  readonly cluster: boolean;
  readonly keyPrefix: string;
  /** The stream is capped near this many entries (the local caches' own bound; see setMaxEntries). */
  readonly maxEntries: number;
  readonly semantic: SemanticCache;
  readonly exact: ExactResponseStore;
  /** A Redis call failed or timed out (the gateway's OutageLog: logged once per outage). */
  readonly onError: (message: string) => void;
  /** A Redis call succeeded (ends an outage). */
  readonly onSuccess: () => void;
  /** One entry of the stream could not be read (skipped; not an outage). */
  readonly onSkipped: (message: string) => void;
}

/** A blocking read waits at most this long, so `stop()` never waits longer. */
const BLOCK_MS = 500;
const BATCH = 256;
/** After a failed read, wait this long before the next (Redis down: no busy loop). */
const RETRY_MS = 500;
/** A store's XADD slower than this counts as failed (the client's own timeout; the answer was served long ago). */
const PUBLISH_TIMEOUT_MS = 1000;
/** A blocking read that has not answered this long after its BLOCK time is a failure: the connection is reset. */
const READ_GRACE_MS = 2000;
/** The tail's first read waits at most this long for the connection (then failures are real). */
const READY_TIMEOUT_MS = 10_000;
/** Stores waiting on a slow Redis at most; beyond, a store stays local (bounded memory). */
const MAX_IN_FLIGHT = 256;

export class CacheSharing {
  readonly #opts: CacheSharingOptions;
  readonly #writer: RedisClient;
  readonly #reader: RedisClient;
  readonly #key: string;
  /** Entries this replica wrote carry its id, so its own tail skips them. */
  readonly #replica = randomUUID();
  #lastId = '0-0';
  #stopped = false;
  #inFlight = 0;
  #maxEntries: number;
  #loop: Promise<void> | null = null;

  constructor(opts: CacheSharingOptions) {
    this.#opts = opts;
    this.#key = `{${opts.keyPrefix}}cache:entries`;
    this.#maxEntries = opts.maxEntries;
    this.#writer = createRedisClient(opts);
    this.#reader = createRedisClient(opts);
    // Connection errors are reported by the failed calls (through onError); both clients need a listener.
    onConnectionError(this.#writer, () => undefined);
    onConnectionError(this.#reader, () => undefined);
    opts.semantic.onStored = (entry) => this.#publish(encodeSemantic(entry));
    opts.exact.onStored = (key, response) => this.#publish(encodeResponse(key, response));
  }

  /**
   * Starts tailing the stream (idempotent). The gateway calls it when a configuration uses a cache
   * policy: a gateway that caches nothing keeps no blocking reader on Redis. The first read waits
   * for the reader's connection (or its first error, or 10 s), so a clean start logs nothing.
   */
  start(): void {
    this.#loop ??= whenReady(this.#reader, READY_TIMEOUT_MS).then(() => this.#tail());
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#opts.semantic.onStored = null;
    this.#opts.exact.onStored = null;
    this.#reader.disconnect();
    await this.#loop?.catch(() => undefined);
    this.#writer.disconnect();
  }

  /** A configuration reload's `cache.responses.maxEntries`: the stream's cap follows it. */
  setMaxEntries(maxEntries: number): void {
    this.#maxEntries = maxEntries;
  }

  #publish(fields: Array<string | Buffer>): void {
    if (this.#inFlight >= MAX_IN_FLIGHT) {
      this.#opts.onError(`${MAX_IN_FLIGHT} stores already waiting on Redis; this one stays local`);
      return;
    }
    this.#inFlight++;
    const cap = String(Math.max(1, this.#maxEntries));
    const send = (): Promise<unknown> => this.#writer.callBuffer('XADD', this.#key, 'MAXLEN', '~', cap, '*', 'r', this.#replica, ...fields);
    // Right after start the writer may still be connecting, and without an offline queue a call
    // then fails at once: the first answers a replica stores would never be shared. Such a store
    // waits for the connection, within the same timeout; a connection that is down fails as before.
    const connecting = this.#writer.status === 'connecting' || this.#writer.status === 'connect';
    const xadd = connecting ? whenReady(this.#writer, PUBLISH_TIMEOUT_MS).then(send) : send();
    withTimeout(xadd, PUBLISH_TIMEOUT_MS, `XADD timed out after ${PUBLISH_TIMEOUT_MS} ms`).then(
      () => {
        this.#inFlight--;
        this.#opts.onSuccess();
      },
      (err: unknown) => {
        this.#inFlight--;
        this.#opts.onError(`store stays local: ${(err as Error).message}`);
      },
    );
  }

  async #tail(): Promise<void> {
    while (!this.#stopped) {
      try {
        const read = this.#reader.callBuffer('XREAD', 'COUNT', String(BATCH), 'BLOCK', String(BLOCK_MS), 'STREAMS', this.#key, this.#lastId);
        const reply = await withTimeout(read, BLOCK_MS + READ_GRACE_MS, `XREAD timed out after ${BLOCK_MS + READ_GRACE_MS} ms`);
        this.#opts.onSuccess();
        for (const [id, fields] of streamEntries(reply)) {
          this.#lastId = id;
          this.#apply(fields);
        }
      } catch (err) {
        if (this.#stopped) return;
        this.#opts.onError(`reading the shared entries: ${(err as Error).message}`);
        // A read that timed out may still be answered on this connection: start a fresh one.
        if ((err as Error).message.startsWith('XREAD timed out')) this.#reader.disconnect(true);
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  #apply(fields: ReadonlyMap<string, Buffer>): void {
    if (fields.get('r')?.toString() === this.#replica) return;
    try {
      const kind = fields.get('k')?.toString();
      if (kind === 's') this.#opts.semantic.insert(decodeSemantic(fields));
      else if (kind === 'x') {
        const { key, response } = decodeResponse(fields);
        this.#opts.exact.insert(key, response);
      }
    } catch (err) {
      // One malformed entry (another version, a hand-written XADD) is skipped, never fatal.
      this.#opts.onSkipped(`cache sharing: entry skipped: ${(err as Error).message}`);
    }
  }
}

function encodeSemantic(e: StoredEntry): Array<string | Buffer> {
  const vector = Buffer.from(e.vector.buffer, e.vector.byteOffset, e.vector.byteLength);
  return ['k', 's', 'p', e.partition, 'e', String(e.expiresAt), 'v', Buffer.from(vector), 'a', e.answer.body];
}

function decodeSemantic(f: ReadonlyMap<string, Buffer>): StoredEntry {
  const v = need(f, 'v');
  if (v.length === 0 || v.length % 4 !== 0) throw new Error('vector is not whole float32 values');
  // Copy into an aligned buffer: a Buffer slice may start at any byte offset.
  const vector = new Float32Array(v.length / 4);
  for (let i = 0; i < vector.length; i++) vector[i] = v.readFloatLE(i * 4);
  return { partition: need(f, 'p').toString(), vector, answer: { body: need(f, 'a') }, expiresAt: Number(need(f, 'e').toString()) };
}

function encodeResponse(key: string, r: StoredResponse): Array<string | Buffer> {
  return ['k', 'x', 'p', key, 'e', String(r.expiresAt), 's', String(r.status), 'h', JSON.stringify(r.headers), 'a', r.body];
}

function decodeResponse(f: ReadonlyMap<string, Buffer>): { key: string; response: StoredResponse } {
  const headers = JSON.parse(need(f, 'h').toString()) as Record<string, string>;
  const status = Number(need(f, 's').toString());
  if (!Number.isInteger(status) || typeof headers !== 'object' || headers === null) throw new Error('bad response entry');
  return { key: need(f, 'p').toString(), response: { status, headers, body: need(f, 'a'), expiresAt: Number(need(f, 'e').toString()) } };
}

function need(f: ReadonlyMap<string, Buffer>, name: string): Buffer {
  const v = f.get(name);
  if (v === undefined) throw new Error(`field ${name} missing`);
  return v;
}

/**
 * XREAD's reply as (id, fields): RESP2 gives `[[key, items], ...]`, RESP3 a map that the client
 * flattens to `[key, items, ...]`; null on timeout. Items are `[id, [field, value, ...]]`.
 */
function* streamEntries(reply: unknown): Generator<[string, Map<string, Buffer>]> {
  if (!Array.isArray(reply)) return;
  const lists: unknown[] = Buffer.isBuffer(reply[0]) ? reply.filter((_, i) => i % 2 === 1) : reply.map((s: unknown): unknown => (Array.isArray(s) ? (s[1] as unknown) : undefined));
  for (const items of lists) {
    if (!Array.isArray(items)) continue;
    for (const item of items as unknown[]) {
      if (!Array.isArray(item) || !Buffer.isBuffer(item[0]) || !Array.isArray(item[1])) continue;
      const flat = item[1] as unknown[];
      const fields = new Map<string, Buffer>();
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const name = flat[i];
        const value = flat[i + 1];
        if (Buffer.isBuffer(name) && Buffer.isBuffer(value)) fields.set(name.toString(), value);
      }
      yield [item[0].toString(), fields];
    }
  }
}
