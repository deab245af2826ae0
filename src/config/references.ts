/**
 * Cross-reference checks the schema cannot express: every id a resource names must exist,
 * API paths must not collide, and a subscription key must belong to one subscription only.
 * @module
 */
import type { Config } from './schema.ts';
import type { Issue } from './named-values.ts';
import { checkTarget } from '../upstream/ssrf-guard.ts';

export function checkReferences(config: Config): Issue[] {
  const issues: Issue[] = [];
  for (const [id, backend] of Object.entries(config.backends)) {
    const seen = new Set<string>();
    backend.pool?.services.forEach((member, i) => {
      const at = ['backends', id, 'pool', 'services', i, 'id'];
      const target = config.backends[member.id];
      if (target === undefined) issues.push({ path: at, message: `backend "${member.id}" is not defined under backends` });
      // APIM allows no pool inside a pool: selection and breakers work on single backends.
      else if (target.type === 'Pool') issues.push({ path: at, message: `backend "${member.id}" is a pool; a pool's members must be single backends` });
      if (seen.has(member.id)) issues.push({ path: at, message: `backend "${member.id}" is listed twice in this pool` });
      seen.add(member.id);
    });
  }
  for (const [id, logger] of Object.entries(config.loggers)) {
    // The same guard as send-request: a literal internal address is refused now (host names when
    // they are resolved, at each write).
    if (logger.type !== 'http') continue;
    const refusal = checkTarget(new URL(logger.url), config.outbound);
    if (refusal !== null) issues.push({ path: ['loggers', id, 'url'], message: `${refusal}${refusal.includes('internal') ? ' and outbound.allowPrivateNetworks is off' : ''}` });
  }
  const paths = new Map<string, string>();
  for (const [id, api] of Object.entries(config.apis)) {
    if (api.backend !== undefined && !(api.backend in config.backends)) {
      issues.push({ path: ['apis', id, 'backend'], message: `backend "${api.backend}" is not defined under backends` });
    }
    if (api.openapi !== undefined && api.type !== 'http') issues.push({ path: ['apis', id, 'openapi'], message: 'openapi needs type: http (an openai API has its operations built in)' });
    if (api.type === 'mcp' && api.backend === undefined) issues.push({ path: ['apis', id, 'backend'], message: 'an API of type mcp needs a backend: the MCP server it passes calls through to' });
    if (api.openapi === undefined && api.passThrough !== undefined) issues.push({ path: ['apis', id, 'passThrough'], message: 'passThrough needs openapi (without a spec every request is forwarded already)' });
    if (api.openapi === undefined && api.mcp !== undefined) issues.push({ path: ['apis', id, 'mcp'], message: 'mcp needs openapi: the tools are the operations of the specification' });
    const other = paths.get(api.path);
    if (other !== undefined) issues.push({ path: ['apis', id, 'path'], message: `path "${api.path}" is already used by api "${other}"` });
    else paths.set(api.path, id);
  }
  for (const [id, product] of Object.entries(config.products)) {
    product.apis.forEach((apiId, i) => {
      if (!(apiId in config.apis)) issues.push({ path: ['products', id, 'apis', i], message: `api "${apiId}" is not defined under apis` });
    });
  }
  const keyOwner = new Map<string, string>();
  for (const [id, sub] of Object.entries(config.subscriptions)) {
    if (!(sub.product in config.products)) {
      issues.push({ path: ['subscriptions', id, 'product'], message: `product "${sub.product}" is not defined under products` });
    }
    sub.keys.forEach((key, i) => {
      const owner = keyOwner.get(key);
      // The message names the subscriptions, never the key itself.
      if (owner !== undefined) issues.push({ path: ['subscriptions', id, 'keys', i], message: `this key is already a key of subscription "${owner}"` });
      else keyOwner.set(key, id);
    });
  }
  const simPorts = new Map<number, string>();
  for (const [id, sim] of Object.entries(config.simulators)) {
    const other = simPorts.get(sim.port);
    if (other !== undefined) issues.push({ path: ['simulators', id, 'port'], message: `port ${sim.port} is already used by simulator "${other}"` });
    else simPorts.set(sim.port, id);
  }
  return issues;
}
