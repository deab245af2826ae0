/**
 * How the CLI's config editors (`policy set`, `api import`) write: the edited text must load and
 * every policy must compile, as `start` would do, or the file is left as it was; the write is
 * write-then-rename, so a crash never leaves a half-written config.
 * @module
 */
import { renameSync, writeFileSync } from 'node:fs';
import { ConfigError, formatIssue, loadConfigText } from '../config/load.ts';
import { buildRuntime } from '../gateway/runtime.ts';
import { fetchApiSpecs } from '../config/remote-specs.ts';
import { Metrics } from '../observability/metrics.ts';
import { createLogger } from '../observability/logger.ts';

/** Writes `next` to `configFile` when it loads; otherwise prints every problem and returns false. */
export async function writeConfigIfLoads(configFile: string, next: string, command: string): Promise<boolean> {
  try {
    const loaded = await fetchApiSpecs(loadConfigText(next, configFile));
    const runtime = buildRuntime(loaded, { metrics: new Metrics({ defaultMetrics: false }), logger: createLogger('silent'), now: () => performance.now() });
    await runtime.close();
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const issue of err.issues) console.error(formatIssue(issue));
      console.error(`tollgate ${command}: ${configFile} left unchanged`);
      return false;
    }
    throw err;
  }
  const tmp = `${configFile}.tollgate-tmp`;
  writeFileSync(tmp, next);
  renameSync(tmp, configFile);
  return true;
}
