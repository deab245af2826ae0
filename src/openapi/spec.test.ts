import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseSpec, SpecError } from './spec.ts';
import { OperationMatcher, fillTemplate } from './match.ts';
import { buildTool } from '../mcp/tool-schema.ts';

const SWAGGER2 = JSON.stringify({
  swagger: '2.0',
  info: { title: 'Items', version: '1' },
  host: 'items.example.com',
  basePath: '/v1',
  schemes: ['https'],
  paths: {
    '/items/{id}': {
      get: { operationId: 'getItem', parameters: [{ name: 'id', in: 'path', required: true, type: 'integer' }, { name: 'fields', in: 'query', type: 'string' }], responses: { 200: { description: 'ok', schema: { $ref: '#/definitions/Item' } } } },
      delete: { responses: { 204: { description: 'gone' } }, parameters: [{ name: 'id', in: 'path', required: true, type: 'integer' }] },
    },
    '/items': { post: { operationId: 'addItem', consumes: ['application/json'], parameters: [{ name: 'item', in: 'body', required: true, schema: { $ref: '#/definitions/Item' } }], responses: { 201: { description: 'made' } } } },
  },
  definitions: { Item: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, id: { type: 'integer' } } } },
});

test('Swagger 2.0 is read: operations, path and query parameters, the body parameter, the server URL', () => {
  const spec = parseSpec(SWAGGER2);
  assert.deepEqual(spec.operations.map((o) => `${o.method} ${o.template} ${o.id}`), ['GET /items/{id} getItem', 'DELETE /items/{id} delete-items-id', 'POST /items addItem']);
  assert.equal(spec.serverUrl, 'https://items.example.com/v1');
  const get = spec.operations[0];
  assert.deepEqual(get?.parameters.map((p) => `${p.in}:${p.name}:${p.required}`), ['path:id:true', 'query:fields:false']);
  const add = buildTool(spec, spec.operations[2]!);
  assert.deepEqual(add.inputSchema.required, ['body']);
  assert.deepEqual((add.inputSchema.properties as Record<string, unknown>)['body'], { $ref: '#/$defs/Item', description: 'Request body (application/json)' });
  const tool = buildTool(spec, get);
  assert.equal(tool.outputSchema?.type, 'object');
});

test('an external $ref is refused: a spec must be one document', () => {
  const doc = { openapi: '3.0.3', info: { title: 'x', version: '1' }, paths: { '/a': { get: { responses: { 200: { description: 'ok', content: { 'application/json': { schema: { $ref: 'other.yaml#/Thing' } } } } } } } } };
  assert.throws(() => parseSpec(JSON.stringify(doc)), (err: unknown) => err instanceof SpecError && /external reference "other.yaml#\/Thing"/.test(err.message));
  const url = { ...doc, paths: { '/a': { get: { parameters: [{ $ref: 'https://evil.example/p.json' }], responses: {} } } } };
  assert.throws(() => parseSpec(JSON.stringify(url)), /external reference/);
});

test('a recursive schema stays a reference: finite, serialisable, valid JSON Schema', () => {
  const doc = {
    openapi: '3.1.0',
    info: { title: 'tree', version: '1' },
    paths: { '/nodes': { post: { operationId: 'addNode', requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Node' } } } }, responses: { 200: { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Node' } } } } } } } },
    components: { schemas: { Node: { type: 'object', properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#/components/schemas/Node' } } }, discriminator: { propertyName: 'name' }, 'x-internal': true } } },
  };
  const spec = parseSpec(JSON.stringify(doc));
  const tool = buildTool(spec, spec.operations[0]!);
  const defs = tool.inputSchema['$defs'] as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.keys(defs), ['Node']);
  assert.deepEqual((defs['Node']?.['properties'] as Record<string, { items?: unknown }>)['children']?.items, { $ref: '#/$defs/Node' });
  assert.equal(defs['Node']?.['discriminator'], undefined, 'OpenAPI-only keywords are dropped');
  assert.equal(defs['Node']?.['x-internal'], undefined);
  const ajv = new Ajv2020({ strict: true });
  const validate = ajv.compile(tool.inputSchema);
  assert.equal(validate({ body: { name: 'a', children: [{ name: 'b', children: [] }] } }), true);
  assert.equal(validate({ body: { name: 'a', children: [{ name: 3 }] } }), false);
  // The output schema's root reference is resolved (MCP wants an object at the root).
  assert.equal(tool.outputSchema?.type, 'object');
  ajv.compile(tool.outputSchema ?? {});
});

test('a cycle of $refs between parameters is refused, not followed forever', () => {
  const doc = {
    openapi: '3.0.3',
    info: { title: 'loop', version: '1' },
    paths: { '/a': { get: { parameters: [{ $ref: '#/components/parameters/A' }], responses: {} } } },
    components: { parameters: { A: { $ref: '#/components/parameters/B' }, B: { $ref: '#/components/parameters/A' } } },
  };
  assert.throws(() => parseSpec(JSON.stringify(doc)), /chained references/);
});

test('what is not an OpenAPI document is refused with a reason', () => {
  assert.throws(() => parseSpec('hello: world\n'), /not an OpenAPI 3.x or Swagger 2.0 document/);
  assert.throws(() => parseSpec('{"openapi": "3.0.0", "info": {}, "paths": {"/a": {"get": {"operationId": "x"}, "post": {"operationId": "x"}}}}'), /operationId "x" is used twice/);
  assert.throws(() => parseSpec('{"openapi": "3.0.0", "info": {}, "paths": {"/a": {"get": {"parameters": [{"$ref": "#/nowhere"}]}}}}'), /does not resolve/);
});

test('the matcher prefers literal segments, tolerates a trailing slash and tells a wrong method from a wrong path', () => {
  const spec = parseSpec(JSON.stringify({
    openapi: '3.0.3',
    info: { title: 'm', version: '1' },
    paths: { '/pet/{petId}': { get: { operationId: 'getPet' } }, '/pet/findByStatus': { get: { operationId: 'find' } }, '/pet/{petId}/photos/{n}.png': { get: { operationId: 'photo' } } },
  }));
  const m = new OperationMatcher(spec.operations);
  const find = m.match('GET', '/pet/findByStatus/');
  assert.equal(find.ok && find.operation.id, 'find');
  const get = m.match('GET', '/pet/a%20b');
  assert.ok(get.ok);
  assert.equal(get.params.get('petId'), 'a b');
  assert.equal(get.info.urlTemplate, '/pet/{petId}');
  const photo = m.match('GET', '/pet/7/photos/3.png');
  assert.ok(photo.ok);
  assert.deepEqual([...photo.params], [['petId', '7'], ['n', '3']]);
  assert.deepEqual(m.match('POST', '/pet/7'), { ok: false, reason: 'method' });
  assert.deepEqual(m.match('GET', '/store'), { ok: false, reason: 'path' });
  assert.equal(fillTemplate('/pet/{petId}', new Map([['petId', '../admin?x=1']])), '/pet/..%2Fadmin%3Fx%3D1');
});
