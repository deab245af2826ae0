/**
 * The ioredis client behind RedisLimitStore: one standalone connection, or a Redis Cluster client
 * (ioredis `Cluster`, which follows MOVED and ASK and refreshes its slot map by itself). Both are
 * set up to fail fast instead of queueing: no offline queue, no retry, no replay after a
 * reconnect. Command timeouts are not ioredis's (see deadlines.ts).
 * @module
 */
import type * as IoRedis from 'ioredis';
import { lazyModule } from '../util/lazy-module.ts';

/**
 * ioredis is loaded only when a client is created (a config that uses Redis). Why: one of its
 * modules subclasses String (`class VerbatimString extends String`, resp/verbatim-string.js), and
 * from then on V8 no longer inlines `String.prototype.charCodeAt` in optimised code: every
 * character loop of the process (tokenizer, content-safety heuristics, PII scan) ran 4–8× slower,
 * with or without Redis configured (docs/performance.md).
 */
const ioredis = lazyModule<typeof IoRedis>(import.meta.url, 'ioredis');

export type RedisClient = IoRedis.Redis | IoRedis.Cluster;
type NetStream = IoRedis.Redis['stream'];

export interface RedisClientOptions {
  /** One URL (standalone, or a cluster seed node) or several (cluster seed nodes). */
  readonly urls: readonly string[];
  readonly cluster: boolean;
}

/** Connecting to a node takes at most this long before the attempt counts as failed. */
const CONNECT_TIMEOUT_MS = 500;

/** Reconnect quickly, but never more often than every 200 ms. */
const reconnectDelay = (times: number): number => Math.min(50 * times, 200);

export function createRedisClient(opts: RedisClientOptions): RedisClient {
  const first = opts.urls[0];
  if (first === undefined) throw new Error('a Redis URL is needed');
  if (!opts.cluster) {
    if (opts.urls.length > 1) throw new Error('several Redis URLs are cluster seed nodes: set cluster');
    return new (ioredis().Redis)(first, {
      // A dead Redis must fail now, not after a queue drains (litellm PR #35273, envoy ratelimit #462).
      enableOfflineQueue: false,
      connectTimeout: CONNECT_TIMEOUT_MS,
      // Never replay a command after a reconnect: by then the request was answered by the fallback
      // (or refused), and a replayed reserve would count twice.
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: reconnectDelay,
    });
  }
  // Nodes found through CLUSTER SLOTS get `redisOptions`, not the seed URL's fields: credentials
  // and TLS must be given there to reach every node.
  const seed = new URL(first);
  if (seed.pathname !== '' && seed.pathname !== '/' && seed.pathname !== '/0') throw new Error('Redis Cluster has only database 0');
  return new (ioredis().Cluster)(
    opts.urls.map((u) => {
      const url = new URL(u);
      return { host: url.hostname, port: Number(url.port || 6379) };
    }),
    {
      // The cluster-level queue (before the slot map is known) is off: fail fast, as standalone.
      // Node connections keep ioredis's own queue while they connect; the store's deadline bounds it.
      enableOfflineQueue: false,
      clusterRetryStrategy: reconnectDelay,
      // MOVED and ASK are followed at once; a failover's CLUSTERDOWN or TRYAGAIN is retried after
      // a short delay, but never beyond the store's command deadline (the caller gives up first).
      retryDelayOnMoved: 0,
      retryDelayOnFailover: 50,
      retryDelayOnClusterDown: 50,
      retryDelayOnTryAgain: 20,
      slotsRefreshTimeout: 1000,
      redisOptions: {
        connectTimeout: CONNECT_TIMEOUT_MS,
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
        ...(seed.username === '' ? {} : { username: decodeURIComponent(seed.username) }),
        ...(seed.password === '' ? {} : { password: decodeURIComponent(seed.password) }),
        ...(seed.protocol === 'rediss:' ? { tls: {} } : {}),
      },
    },
  );
}

/**
 * Resolves true once `client` is connected; false at its first connection error or after
 * `timeoutMs` (the timer does not keep the process alive). For callers that would rather start
 * working on a live connection than count a connect in progress as a failure.
 */
export function whenReady(client: RedisClient, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
      resolve(ok);
    };
    const onReady = (): void => done(true);
    const onError = (): void => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    timer.unref();
    client.once('ready', onReady);
    client.once('error', onError);
  });
}

/**
 * Reports connection errors once per cause, not once per reconnect attempt (a Redis that is down
 * fails every 200 ms); the same cause is reported again after the client was ready in between.
 */
export function onConnectionError(client: RedisClient, report: (message: string) => void): void {
  let last = '';
  client.on('error', (err: Error) => {
    if (err.message === last) return;
    last = err.message;
    report(err.message);
  });
  client.on('ready', () => {
    last = '';
  });
}

/**
 * Returns a function to call before each command: the first call in an event-loop turn corks the
 * client's socket (each primary's, in a cluster) and uncorks it in that turn's check phase
 * (`setImmediate`), once every socket the poll phase found ready has been handled. The reserves
 * of all requests whose inbound section ended in that turn then leave in one `writev`.
 * Why: on loopback a `write` to Redis also runs the receiving side of TCP in the sender's
 * syscall, and a CPU profile of the redis target put it at ~22 µs per request, the largest single
 * cost of a reservation. Uncorking at `process.nextTick` (the first version) batched only the
 * commands of one socket callback, about one request under load, so Node still wrote each alone
 * (a single buffered chunk takes `_write`, not `_writev`). A command waits at most for the rest of
 * its turn, and `written` (the start of the commands' deadlines) is called once they have left.
 * ioredis's auto-pipelining also waits for `setImmediate`, but builds a Pipeline object per batch
 * that costs what it saves. docs/performance.md has the measurements.
 */
export function writeCoalescer(client: RedisClient, written: () => void): () => void {
  let corked: NetStream[] | null = null;
  const uncork = (): void => {
    for (const s of corked ?? []) s.uncork();
    corked = null;
    written();
  };
  return () => {
    if (corked !== null) return;
    const streams = client instanceof ioredis().Cluster ? client.nodes('master').map((n) => n.stream) : [client.stream];
    // A node that has not connected yet has no socket: its commands wait in its own queue.
    corked = streams.filter((s) => s !== undefined);
    for (const s of corked) s.cork();
    setImmediate(uncork);
  };
}
