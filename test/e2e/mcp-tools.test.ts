/**
 * An imported REST API served as MCP tools: the official MCP SDK client against the gateway,
 * which runs each tool call as the REST operation through its pipeline to a fake backend.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';
import { json, mcpClient, PETSTORE, startRestBackend, type RestBackend } from '../helpers/mcp.ts';

const PET = { id: 7, name: 'Rex', photoUrls: [], status: 'available' };

describe('an OpenAPI-imported API as an MCP server', () => {
  let backend: RestBackend;
  let t: TestGateway;
  let mcpUrl: string;
  let client: Client;

  before(async () => {
    backend = await startRestBackend((r, res) => {
      if (r.url.startsWith('/api/v3/pet/500')) return json(res, 500, { message: 'backend exploded' });
      if (r.method === 'GET' && r.url.startsWith('/api/v3/pet/findByStatus')) return json(res, 200, [PET]);
      if (r.method === 'GET' && r.url.startsWith('/api/v3/pet/')) return json(res, 200, PET);
      if (r.method === 'POST' && r.url === '/api/v3/pet') return json(res, 200, { ...JSON.parse(r.body), id: 8 });
      json(res, 200, {});
    });
    t = await startTestGateway({
      extraBackends: { petstore: { url: `${backend.url}/api/v3` } },
      extraApis: {
        petstore: {
          path: 'petstore',
          type: 'http',
          backend: 'petstore',
          openapi: PETSTORE,
          mcp: { enabled: true },
          operations: {
            getPetById: { policies: { inbound: [{ base: {} }, { 'set-header': { name: 'x-operation', 'exists-action': 'override', value: '@(context.Operation.Id + " " + context.Operation.UrlTemplate)' } }] } },
          },
        },
      },
    });
    mcpUrl = `${t.url}/petstore/mcp`;
    client = await mcpClient(mcpUrl, { 'api-key': TEST_KEY });
  });
  after(async () => {
    await client.close();
    await t.close();
    await backend.close();
  });

  test('initialize names the gateway and offers tools', () => {
    assert.match(client.getServerVersion()?.name ?? '', /tollgate-petstore/);
    assert.ok(client.getServerCapabilities()?.tools);
  });

  test('tools/list has one tool per operation, with valid JSON Schemas', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((x) => x.name).sort(), [
      'addPet', 'createUser', 'createUsersWithListInput', 'deleteOrder', 'deletePet', 'deleteUser', 'findPetsByStatus', 'findPetsByTags',
      'getInventory', 'getOrderById', 'getPetById', 'getUserByName', 'loginUser', 'logoutUser', 'placeOrder', 'updatePet', 'updatePetWithForm', 'updateUser', 'uploadFile',
    ]);
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    for (const tool of tools) {
      assert.equal(ajv.validateSchema(tool.inputSchema), true, `${tool.name} inputSchema: ${ajv.errorsText()}`);
      ajv.compile(tool.inputSchema);
      if (tool.outputSchema !== undefined) ajv.compile(tool.outputSchema);
    }
    const get = tools.find((x) => x.name === 'getPetById');
    assert.equal(get?.description?.startsWith('Find pet by ID.'), true);
    assert.deepEqual(get?.inputSchema.required, ['petId']);
    assert.equal(get?.outputSchema?.type, 'object');
    const add = tools.find((x) => x.name === 'addPet');
    assert.deepEqual(add?.inputSchema.required, ['body']);
  });

  test('a path argument reaches the backend in the URL, through the operation policy', async () => {
    const before = backend.received.length;
    const result = await client.callTool({ name: 'getPetById', arguments: { petId: 7 } });
    assert.equal(result.isError, undefined);
    assert.deepEqual(result.structuredContent, PET);
    const got = backend.received.at(-1);
    assert.equal(backend.received.length, before + 1);
    assert.equal(got?.method, 'GET');
    assert.equal(got?.url, '/api/v3/pet/7');
    assert.equal(got?.headers['x-operation'], 'getPetById /pet/{petId}');
    // The subscription key stops at the gateway.
    assert.equal(got?.headers['api-key'], undefined);
  });

  test('query arguments (array exploded) and header arguments reach the backend', async () => {
    const result = await client.callTool({ name: 'findPetsByTags', arguments: { tags: ['a b', 'c'] } });
    assert.equal(result.isError, undefined);
    assert.equal(backend.received.at(-1)?.url, '/api/v3/pet/findByTags?tags=a+b&tags=c');
    await client.callTool({ name: 'deletePet', arguments: { petId: 3, api_key: 'pet-secret' } });
    const got = backend.received.at(-1);
    assert.equal(got?.method, 'DELETE');
    assert.equal(got?.url, '/api/v3/pet/3');
    assert.equal(got?.headers['api_key'], 'pet-secret');
  });

  test('a body argument is sent as the JSON request body', async () => {
    const body = { name: 'Tom', photoUrls: ['http://x/1.png'], status: 'pending' };
    const result = await client.callTool({ name: 'addPet', arguments: { body } });
    assert.equal(result.isError, undefined);
    const got = backend.received.at(-1);
    assert.equal(got?.method, 'POST');
    assert.equal(got?.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(got?.body ?? ''), body);
    assert.deepEqual(result.structuredContent, { ...body, id: 8 });
  });

  test('an unknown tool is a tool error', async () => {
    const result = await client.callTool({ name: 'stealPets', arguments: {} });
    assert.equal(result.isError, true);
    assert.match(JSON.stringify(result.content), /Tool stealPets not found/);
  });

  test('invalid arguments are a tool error and never reach the backend', async () => {
    const count = backend.received.length;
    const result = await client.callTool({ name: 'getPetById', arguments: { petId: 'seven' } });
    assert.equal(result.isError, true);
    assert.match(JSON.stringify(result.content), /Input validation error/);
    const missing = await client.callTool({ name: 'getPetById', arguments: {} });
    assert.equal(missing.isError, true);
    assert.equal(backend.received.length, count);
  });

  test('a path argument cannot climb out of its operation', async () => {
    const count = backend.received.length;
    const dots = await client.callTool({ name: 'getPetById', arguments: { petId: '..' } });
    assert.equal(dots.isError, true);
    const slash = await client.callTool({ name: 'getUserByName', arguments: { username: '../../admin' } });
    assert.equal(slash.isError, true);
    assert.match(JSON.stringify(slash.content), /HTTP 400.*GW_ERR_INVALID_PATH/);
    assert.equal(backend.received.length, count);
  });

  test('a backend 500 is a tool result with isError carrying the status', async () => {
    const result = await client.callTool({ name: 'getPetById', arguments: { petId: 500 } });
    assert.equal(result.isError, true);
    assert.match(JSON.stringify(result.content), /HTTP 500.*backend exploded/);
  });

  test('each tool call is metered as its operation, for the subscription', async () => {
    const before = t.usages.filter((u) => u.operation === 'getPetById').length;
    await client.callTool({ name: 'getPetById', arguments: { petId: 9 } });
    const records = t.usages.filter((u) => u.operation === 'getPetById');
    assert.equal(records.length, before + 1);
    assert.equal(records.at(-1)?.subscription, 'team-a');
    assert.equal(records.at(-1)?.api, 'petstore');
    assert.equal(records.at(-1)?.status, 200);
    assert.ok(t.usages.some((u) => u.operation === 'mcp' && u.api === 'petstore'));
  });

  test('without a key the MCP endpoint answers 401, and the SDK client cannot connect', async () => {
    const res = await fetch(mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(res.status, 401);
    const body = (await res.json()) as { error: { code: string } };
    assert.equal(body.error.code, 'GW_ERR_AUTH_MISSING_KEY');
    const is401 = (code: string) => (err: unknown) => (err as { code?: unknown }).code === 401 && String(err).includes(code);
    await assert.rejects(mcpClient(mcpUrl, {}), is401('GW_ERR_AUTH_MISSING_KEY'));
    await assert.rejects(mcpClient(mcpUrl, { 'api-key': 'not-a-key' }), is401('GW_ERR_AUTH_INVALID_KEY'));
  });

  test('GET on the MCP endpoint is 405 (stateless: no server stream)', async () => {
    const res = await fetch(mcpUrl, { headers: { 'api-key': TEST_KEY, accept: 'text/event-stream' } });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST');
    await res.body?.cancel();
  });

  test('REST calls: the operation is matched, anything outside the spec is 404', async () => {
    const ok = await fetch(`${t.url}/petstore/pet/findByStatus?status=sold`, { headers: { 'api-key': TEST_KEY } });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), [PET]);
    assert.equal(t.usages.at(-1)?.operation, 'findPetsByStatus');
    const missing = await fetch(`${t.url}/petstore/admin/secrets`, { headers: { 'api-key': TEST_KEY } });
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'GW_ERR_ROUTE_NOT_FOUND');
    const method = await fetch(`${t.url}/petstore/store/inventory`, { method: 'PATCH', headers: { 'api-key': TEST_KEY } });
    assert.equal(method.status, 405);
    await method.body?.cancel();
  });
});
