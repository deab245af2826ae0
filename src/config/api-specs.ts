/**
 * Reads the OpenAPI descriptions the config names (`apis.<id>.openapi`) when the config loads, so
 * a spec that does not parse, an operation-scope policy for an operation the spec lacks, or an MCP
 * tool list naming one, is a load error like any other, located at the field.
 * @module
 */
import { dirname } from 'node:path';
import type { Config } from './schema.ts';
import type { Issue } from './named-values.ts';
import { parseSpec, SpecError, type ApiSpec } from '../openapi/spec.ts';
import { isUrl, readSpecFile } from '../openapi/source.ts';
import { OperationMatcher } from '../openapi/match.ts';

/** `configFile` undefined: paths are relative to the working directory. */
export function loadApiSpecs(config: Config, configFile: string | undefined, issues: Issue[]): Map<string, ApiSpec> {
  const specs = new Map<string, ApiSpec>();
  const baseDir = configFile === undefined ? process.cwd() : dirname(configFile);
  for (const [id, api] of Object.entries(config.apis)) {
    // A URL is fetched by fetchApiSpecs (asynchronously, through the SSRF guard) before the runtime is built.
    if (api.openapi === undefined || isUrl(api.openapi)) continue;
    let spec: ApiSpec;
    try {
      spec = parseSpec(readSpecFile(api.openapi, baseDir));
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
      issues.push({ path: ['apis', id, 'openapi'], message: `${api.openapi}: ${err.message}` });
      continue;
    }
    specs.set(id, spec);
    issues.push(...specIssues(id, api, spec));
  }
  return specs;
}

export function specIssues(id: string, api: Config['apis'][string], spec: ApiSpec): Issue[] {
  const issues: Issue[] = [];
  const ids = new Set(spec.operations.map((o) => o.id));
  const known = (): string => [...ids].slice(0, 20).join(', ') + (ids.size > 20 ? ', ...' : '');
  for (const op of Object.keys(api.operations)) {
    if (!ids.has(op)) issues.push({ path: ['apis', id, 'operations', op], atKey: true, message: `the specification has no operation "${op}" (known: ${known()})` });
  }
  const mcp = api.mcp;
  if (mcp !== undefined) {
    mcp.tools?.forEach((tool, i) => {
      if (!ids.has(tool)) issues.push({ path: ['apis', id, 'mcp', 'tools', i], message: `the specification has no operation "${tool}" (known: ${known()})` });
    });
    // The MCP endpoint answers its own path; an operation there could never be reached.
    const clash = new OperationMatcher(spec.operations).match('POST', `/${mcp.path}`);
    if (clash.ok || clash.reason === 'method') issues.push({ path: ['apis', id, 'mcp', 'path'], message: `"/${mcp.path}" is also an operation's path in the specification; choose another mcp path` });
  }
  return issues;
}

