/**
 * The shared-state store the configuration asks for (`state:`): in memory for one process, or
 * Redis (one server or a cluster) for many replicas (with its fail mode, timeouts and breaker).
 * @module
 */
import type { Config } from '../config/schema.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { LimitStore } from '../state/limit-store.ts';
import { MemoryLimitStore } from '../state/memory-limit-store.ts';
import { RedisLimitStore } from '../state/redis-limit-store.ts';
import { OutageLog } from '../state/outage-log.ts';

/** The Redis the `state` config names (one server or cluster seed nodes), or null for memory. */
export function redisTarget(state: Config['state']): { urls: readonly string[]; cluster: boolean } | null {
  if (state.store === 'memory' || (state.url === undefined && state.urls === undefined)) return null;
  return { urls: state.urls ?? (state.url === undefined ? [] : [state.url]), cluster: state.cluster };
}

export async function createLimitStore(config: Config, logger: Logger, metrics: Metrics): Promise<LimitStore> {
  const state = config.state;
  const redis = redisTarget(state);
  if (redis === null) return new MemoryLimitStore();
  const events = metrics.stateEvents;
  // Every event is counted in metrics; the log says only when Redis starts failing and recovers.
  const outage = new OutageLog({
    component: 'limit-store',
    failingMessage: `Redis limit store failing; failMode ${state.failMode} applies until it recovers`,
    recoveredMessage: 'Redis limit store recovered',
    logger,
  });
  const store = new RedisLimitStore({
    ...redis,
    keyPrefix: state.keyPrefix,
    commandTimeoutMs: state.commandTimeoutMs,
    failMode: state.failMode,
    replicas: state.replicas,
    onEvent: (e) => {
      events.inc({ type: e.type });
      // The URL may hold a password: events carry only their type and a short detail.
      if (e.type === 'error' || e.type === 'breaker-open') outage.failure(`${e.type}: ${e.detail ?? ''}`);
      else if (e.type === 'recovered') outage.success();
      // The first reserve after every start (and after a Redis restart) loads the script: routine.
      else if (e.type === 'script-reload') logger.debug({ stateEvent: e.type }, 'Redis limit script loaded (NOSCRIPT)');
    },
  });
  metrics.trackStateStore(() => store.stats.roundTrips);
  // Start with a connection when Redis is there; when it is not, start anyway: the fail mode
  // decides what requests get until it comes back.
  if (!(await store.ready(2000))) outage.failure('not reachable at start');
  return store;
}
