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

export async function createLimitStore(config: Config, logger: Logger, metrics: Metrics): Promise<LimitStore> {
  const state = config.state;
  if (state.store === 'memory' || (state.url === undefined && state.urls === undefined)) return new MemoryLimitStore();
  const events = metrics.stateEvents;
  const store = new RedisLimitStore({
    urls: state.urls ?? (state.url === undefined ? [] : [state.url]),
    cluster: state.cluster,
    keyPrefix: state.keyPrefix,
    commandTimeoutMs: state.commandTimeoutMs,
    failMode: state.failMode,
    replicas: state.replicas,
    onEvent: (e) => {
      events.inc({ type: e.type });
      // The URL may hold a password: events carry only their type and a short detail.
      if (e.type !== 'fallback') logger.warn({ stateEvent: e.type }, 'state store event');
    },
  });
  metrics.trackStateStore(() => store.stats.roundTrips);
  // Start with a connection when Redis is there; when it is not, start anyway: the fail mode
  // decides what requests get until it comes back.
  if (!(await store.ready(2000))) logger.warn({ failMode: state.failMode }, 'Redis is not reachable at start; the fail mode applies until it is');
  return store;
}
