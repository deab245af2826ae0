/**
 * The specs a config names by URL, fetched when a gateway starts or reloads (config loading
 * itself is synchronous and reads files only).
 * @module
 */
import type { Issue } from './named-values.ts';
import { ConfigError, type LoadedConfig } from './load.ts';
import { specIssues } from './api-specs.ts';
import { fetchSpec, isUrl } from '../openapi/source.ts';
import { parseSpec, SpecError } from '../openapi/spec.ts';

/**
 * Fetches the specs the config names by URL (`openapi: https://...`) through the outbound SSRF
 * guard (`outbound.allowPrivateNetworks` / `allowedHosts`, 10 MiB, 15 s), at start and at every
 * reload. @throws ConfigError naming the API when one cannot be fetched or read.
 */
export async function fetchApiSpecs(loaded: LoadedConfig): Promise<LoadedConfig> {
  const remote = Object.entries(loaded.config.apis).filter(([id, api]) => api.openapi !== undefined && isUrl(api.openapi) && !loaded.specs.has(id));
  if (remote.length === 0) return loaded;
  const specs = new Map(loaded.specs);
  const issues: Issue[] = [];
  await Promise.all(
    remote.map(async ([id, api]) => {
      const url = api.openapi as string;
      try {
        const spec = parseSpec(await fetchSpec(url, { policy: loaded.config.outbound }));
        specs.set(id, spec);
        issues.push(...specIssues(id, api, spec));
      } catch (err) {
        if (!(err instanceof SpecError)) throw err;
        issues.push({ path: ['apis', id, 'openapi'], message: `${url}: ${err.message}` });
      }
    }),
  );
  const file = loaded.file ?? '<config>';
  if (issues.length > 0) throw new ConfigError(issues.map((i) => ({ file, line: 1, col: 1, path: i.path.map(String).join('.'), message: loaded.secrets.redact(i.message) })));
  return { ...loaded, specs };
}
