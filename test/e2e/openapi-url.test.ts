/**
 * `apis.<id>.openapi` as a URL: fetched when the gateway starts, through the outbound SSRF guard,
 * so a loopback spec server is refused unless the config allows private networks.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadConfigObject } from '../../src/config/load.ts';
import { fetchApiSpecs } from '../../src/config/remote-specs.ts';
import { startTestGateway, TEST_KEY } from '../helpers/gateway.ts';
import { json, PETSTORE, startRestBackend, type RestBackend } from '../helpers/mcp.ts';

let specServer: RestBackend;
let backend: RestBackend;

before(async () => {
  const spec = readFileSync(PETSTORE, 'utf8');
  specServer = await startRestBackend((r, res) => {
    if (r.url !== '/petstore.yaml') return json(res, 404, {});
    res.writeHead(200, { 'content-type': 'application/yaml' });
    res.end(spec);
  });
  backend = await startRestBackend((_r, res) => json(res, 200, { id: 1, name: 'Rex', photoUrls: [] }));
});
after(async () => {
  await specServer.close();
  await backend.close();
});

const config = (outbound: Record<string, unknown> | undefined, file = 'petstore.yaml'): Record<string, unknown> => ({
  backends: { petstore: { url: backend.url } },
  apis: { petstore: { path: 'petstore', type: 'http', backend: 'petstore', openapi: `${specServer.url}/${file}`, operations: { getPetById: {} } } },
  ...(outbound !== undefined && { outbound }),
});

test('a spec URL on loopback is refused by the SSRF guard when the config does not allow private networks', async () => {
  await assert.rejects(fetchApiSpecs(loadConfigObject(config(undefined))), (err: Error & { issues?: Array<{ path: string; message: string }> }) => {
    assert.equal(err.issues?.[0]?.path, 'apis.petstore.openapi');
    assert.match(err.issues?.[0]?.message ?? '', /internal and outbound.allowPrivateNetworks is off/);
    return true;
  });
  assert.equal(specServer.received.length, 0);
  await assert.rejects(fetchApiSpecs(loadConfigObject(config({ allowPrivateNetworks: true }, 'missing.yaml'))), /answered 404/);
});

test('a spec URL allowed by the config is fetched at start and its operations are served', async () => {
  const t = await startTestGateway({
    config: { outbound: { allowPrivateNetworks: true } },
    extraBackends: { petstore: { url: backend.url } },
    extraApis: { petstore: { path: 'petstore', type: 'http', backend: 'petstore', openapi: `${specServer.url}/petstore.yaml` } },
  });
  try {
    const ok = await fetch(`${t.url}/petstore/pet/1`, { headers: { 'api-key': TEST_KEY } });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    assert.equal(t.usages.at(-1)?.operation, 'getPetById');
    const outside = await fetch(`${t.url}/petstore/nothing`, { headers: { 'api-key': TEST_KEY } });
    assert.equal(outside.status, 404);
    await outside.body?.cancel();
  } finally {
    await t.close();
  }
});
