/**
 * Builds a runtime from a configuration alone (no listener, no simulator, nothing to close) and
 * returns the load error it raises: for tests of what a document or config may not say.
 */
import assert from 'node:assert/strict';
import { ConfigError, loadConfigObject } from '../../src/config/load.ts';
import { buildRuntime } from '../../src/gateway/runtime.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { Metrics } from '../../src/observability/metrics.ts';

/** The ConfigError message of an API on `policies`, plus `extra` config (e.g. `schemas`). */
export function loadError(policies: string, extra: Record<string, unknown> = {}): string {
  const loaded = loadConfigObject({
    gateway: { listen: '127.0.0.1:0' },
    backends: { b: { url: 'http://127.0.0.1:9/openai' } },
    apis: { openai: { path: '', type: 'openai', backend: 'b', policies } },
    ...extra,
  });
  try {
    buildRuntime(loaded, { metrics: new Metrics({ defaultMetrics: false }), logger: createLogger('silent'), now: () => performance.now() });
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  return assert.fail('expected a load error');
}
