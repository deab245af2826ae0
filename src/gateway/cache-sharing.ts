/**
 * The gateway's side of sharing cached answers between replicas (src/cache/redis-sharing.ts):
 * where they are shared, and the sharing itself, reporting through the outage log.
 * @module
 */
import type { LoadedConfig } from '../config/load.ts';
import type { Logger } from '../observability/logger.ts';
import { CacheSharing } from '../cache/redis-sharing.ts';
import type { ResponseCaches } from '../cache/services.ts';
import { OutageLog } from '../state/outage-log.ts';
import { redisTarget } from './state.ts';

/** Where cached answers are shared: the Redis and key prefix, or null when they are not. */
export function sharingTarget(config: LoadedConfig['config']): { urls: readonly string[]; cluster: boolean; keyPrefix: string } | null {
  const setting = config.cache.responses.redis;
  if (setting === 'off') return null;
  const target = setting === 'state' ? redisTarget(config.state) : { urls: [setting], cluster: false };
  return target === null ? null : { urls: target.urls, cluster: target.cluster, keyPrefix: config.state.keyPrefix };
}

/** With Redis (the state store's, or `cache.responses.redis` naming its own), replicas share cached answers. */
export function shareCaches(config: LoadedConfig['config'], caches: ResponseCaches, logger: Logger): CacheSharing | null {
  const target = sharingTarget(config);
  if (target === null) return null;
  const outage = new OutageLog({
    component: 'cache-sharing',
    failingMessage: 'cache sharing through Redis failing; cached answers stay local',
    recoveredMessage: 'cache sharing through Redis recovered',
    logger,
  });
  const sharing = new CacheSharing({
    ...target,
    maxEntries: config.cache.responses.maxEntries,
    semantic: caches.semantic,
    exact: caches.exact,
    // Once when it starts failing, once when it recovers (with the count), not at every store or read.
    // The detail never holds the URL (and so no password): ioredis errors name host and port only.
    onError: (message) => outage.failure(message),
    onSuccess: () => outage.success(),
    onSkipped: (message) => logger.warn({ stateEvent: 'cache-sharing', detail: message }, 'cache sharing: a shared entry could not be read and was skipped'),
  });
  // The tail starts with the first configuration that compiles a cache policy.
  caches.used = () => sharing.start();
  return sharing;
}
