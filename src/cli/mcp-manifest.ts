/**
 * `tollgate mcp manifest --api ID [--config FILE] [--client NAME|all] [--base-url URL]`: prints
 * the MCP client configuration for an API's MCP server (src/mcp/manifest.ts has the formats).
 * @module
 */
import { HelpRequested, parseCommandArgs } from './args.ts';
import { ConfigError, formatIssue, loadConfigFile } from '../config/load.ts';
import { fetchApiSpecs } from '../config/remote-specs.ts';
import { buildManifest, MANIFEST_CLIENTS, type ManifestClient } from '../mcp/manifest.ts';
import { buildTool } from '../mcp/tool-schema.ts';

const USAGE = 'usage: tollgate mcp manifest --api ID [--config FILE] [--client vscode|claude-code|claude-desktop|cursor|all] [--base-url URL]';

export async function mcpCommand(args: string[]): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === '--help' || verb === '-h') throw new HelpRequested('help');
  if (verb !== 'manifest') {
    console.error(USAGE);
    return 2;
  }
  const v = parseCommandArgs(rest, {
    api: { type: 'string' },
    config: { type: 'string', short: 'c', default: 'tollgate.yaml' },
    client: { type: 'string', default: 'all' },
    'base-url': { type: 'string' },
  });
  if (v.api === undefined) {
    console.error(`tollgate mcp manifest: --api is required\n${USAGE}`);
    return 2;
  }
  const client = v.client;
  if (client !== 'all' && !(MANIFEST_CLIENTS as readonly string[]).includes(client)) {
    console.error(`tollgate mcp manifest: unknown --client "${client}" (${MANIFEST_CLIENTS.join(', ')} or all)`);
    return 2;
  }
  let loaded;
  try {
    loaded = await fetchApiSpecs(loadConfigFile(v.config));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const issue of err.issues) console.error(formatIssue(issue));
    return 1;
  }
  const api = loaded.config.apis[v.api];
  const spec = loaded.specs.get(v.api);
  if (api === undefined) {
    console.error(`tollgate mcp manifest: api "${v.api}" is not defined in ${v.config}`);
    return 1;
  }
  if (api.mcp?.enabled !== true || spec === undefined) {
    console.error(`tollgate mcp manifest: api "${v.api}" has no MCP server; set apis.${v.api}.openapi and apis.${v.api}.mcp: { enabled: true }`);
    return 1;
  }
  const base = (v['base-url'] ?? listenUrl(loaded.config.gateway.listen)).replace(/\/+$/, '');
  const url = `${base}${api.path === '' ? '' : `/${api.path}`}/${api.mcp.path}`;
  const wanted = api.mcp.tools === undefined ? null : new Set(api.mcp.tools);
  const tools = spec.operations.filter((op) => wanted === null || wanted.has(op.id)).map((op) => buildTool(spec, op).name);
  const manifest = buildManifest({ name: v.api, url, tools });
  const out = client === 'all' ? manifest : manifest.clients[client as ManifestClient].config;
  console.log(JSON.stringify(out, null, 2));
  return 0;
}

/** `0.0.0.0:8080` → `http://127.0.0.1:8080`: a listener on every address is reached on loopback here. */
function listenUrl(listen: string): string {
  const at = listen.lastIndexOf(':');
  let host = listen.slice(0, at);
  if (host === '0.0.0.0' || host === '' || host === '[::]') host = '127.0.0.1';
  return `http://${host}:${listen.slice(at + 1)}`;
}
