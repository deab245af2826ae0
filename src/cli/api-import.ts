/**
 * `tollgate api import --config FILE --api-id ID --path PATH --specification FILE|URL
 * [--service-url URL]`: the seeds' `az apim api import`, locally. It reads the description (a
 * URL through the SSRF guard of the config's `outbound` settings, size- and time-limited), checks
 * it, and edits the config in place (comments and layout kept): `apis.<id>` gets `type: http`,
 * `path`, `openapi` and `backend`; a spec fetched by URL is saved beside the config, as APIM keeps
 * its own copy of what it imported. The config is written only if the result loads.
 * @module
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { parse } from 'yaml';
import { validate as validateOpenApi } from '@scalar/openapi-parser';
import { HelpRequested, parseCommandArgs } from './args.ts';
import { setYamlString } from './yaml-edit.ts';
import { writeConfigIfLoads } from './config-write.ts';
import { fetchSpec, isUrl, readSpecFile } from '../openapi/source.ts';
import { parseSpec, SpecError, type ApiSpec } from '../openapi/spec.ts';

const USAGE = 'usage: tollgate api import --config FILE --api-id ID --path PATH --specification FILE|URL [--service-url URL]';

interface Outbound {
  allowPrivateNetworks: boolean;
  allowedHosts: string[];
}

export async function apiCommand(args: string[]): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === '--help' || verb === '-h') throw new HelpRequested('help');
  if (verb !== 'import') {
    console.error(USAGE);
    return 2;
  }
  const v = parseCommandArgs(rest, {
    config: { type: 'string', short: 'c' },
    'api-id': { type: 'string' },
    path: { type: 'string' },
    specification: { type: 'string' },
    'service-url': { type: 'string' },
  });
  if (v.config === undefined || v['api-id'] === undefined || v.path === undefined || v.specification === undefined) {
    console.error(`tollgate api import: --config, --api-id, --path and --specification are required\n${USAGE}`);
    return 2;
  }
  const apiId = v['api-id'];
  const configFile = v.config;
  if (!existsSync(configFile)) {
    console.error(`tollgate api import: ${configFile} does not exist`);
    return 1;
  }
  const text = readFileSync(configFile, 'utf8');
  const current = (parse(text) ?? {}) as { outbound?: Partial<Outbound>; apis?: Record<string, { backend?: string }> };
  const configDir = dirname(resolve(configFile));
  let specText: string;
  let spec: ApiSpec;
  try {
    specText = isUrl(v.specification)
      ? await fetchSpec(v.specification, { policy: { allowPrivateNetworks: current.outbound?.allowPrivateNetworks === true, allowedHosts: current.outbound?.allowedHosts ?? [] } })
      : readSpecFile(v.specification, process.cwd());
    spec = parseSpec(specText);
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    console.error(`tollgate api import: ${v.specification}: ${err.message}`);
    return 1;
  }
  const checked = await validateOpenApi(specText);
  if (!checked.valid) {
    for (const e of checked.errors ?? []) console.error(`tollgate api import: ${v.specification}: ${e.message}`);
    console.error(`tollgate api import: the specification is not valid OpenAPI; ${configFile} left unchanged`);
    return 1;
  }

  let specRef: string;
  let savedAs: string | null = null;
  if (isUrl(v.specification)) {
    savedAs = resolve(configDir, `${apiId}.openapi.${specText.trimStart().startsWith('{') ? 'json' : 'yaml'}`);
    specRef = relative(configDir, savedAs);
  } else {
    specRef = relative(configDir, resolve(v.specification));
  }
  const serviceUrl = v['service-url'] ?? absoluteServer(spec.serverUrl);
  const existingBackend = current.apis?.[apiId]?.backend;
  if (serviceUrl === undefined && existingBackend === undefined) {
    console.error(`tollgate api import: the specification names no absolute server URL; give --service-url`);
    return 2;
  }
  // Each edit touches one line (or adds the missing keys), so the rest stays as written.
  let next = text;
  let backendId = existingBackend;
  if (serviceUrl !== undefined) {
    backendId = v['service-url'] === undefined && existingBackend !== undefined ? existingBackend : apiId;
    if (backendId === apiId) next = setYamlString(next, ['backends', apiId, 'url'], serviceUrl);
  }
  next = setYamlString(next, ['apis', apiId, 'path'], v.path.replace(/^\/+|\/+$/g, ''));
  next = setYamlString(next, ['apis', apiId, 'type'], 'http');
  next = setYamlString(next, ['apis', apiId, 'openapi'], specRef);
  if (backendId !== undefined) next = setYamlString(next, ['apis', apiId, 'backend'], backendId);

  // The saved spec must be in place for the load check; it is removed again if the config is refused.
  const previous = savedAs !== null && existsSync(savedAs) ? readFileSync(savedAs) : null;
  if (savedAs !== null) writeAtomically(savedAs, specText);
  if (!(await writeConfigIfLoads(configFile, next, 'api import'))) {
    if (savedAs !== null) restore(savedAs, previous);
    return 1;
  }
  console.log(`${configFile}: api "${apiId}" at /${v.path.replace(/^\/+|\/+$/g, '')}: ${spec.operations.length} operations from ${specRef}${backendId === undefined ? '' : `, backend "${backendId}"`}`);
  console.log(`add "${apiId}" to a product's apis for subscriptions to call it; apis.${apiId}.mcp: { enabled: true } serves its operations as MCP tools`);
  return 0;
}

/** A server URL usable as a backend: absolute http(s) without `{variables}`. */
function absoluteServer(url: string | undefined): string | undefined {
  return url !== undefined && /^https?:\/\//i.test(url) && !url.includes('{') ? url.replace(/\/+$/, '') : undefined;
}

function writeAtomically(file: string, data: string | Buffer): void {
  const tmp = `${file}.tollgate-tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

function restore(file: string, previous: Buffer | null): void {
  if (previous !== null) writeAtomically(file, previous);
  else rmSync(file, { force: true });
}
