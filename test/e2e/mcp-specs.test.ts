/**
 * The other two fixture specs as MCP tools: the Azure OpenAI inference spec (3.0, path parameter
 * with a dash, required query parameter, big recursive body schemas) and RealWorld Conduit (3.1,
 * shared `components/parameters` and `components/requestBodies`).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';
import { AZURE_OPENAI, CONDUIT, json, mcpClient, startRestBackend, type RestBackend } from '../helpers/mcp.ts';

const COMPLETION = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1700000000,
  model: 'gpt-4o',
  choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'hello' } }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
};
const ARTICLES = { articles: [], articlesCount: 0 };

describe('the Azure OpenAI and Conduit specs as MCP tools', () => {
  let backend: RestBackend;
  let t: TestGateway;
  let aoai: Client;
  let conduit: Client;

  before(async () => {
    backend = await startRestBackend((r, res) => {
      if (r.url.includes('/chat/completions')) return json(res, 200, COMPLETION);
      if (r.method === 'GET' && r.url.startsWith('/api/articles')) return json(res, 200, ARTICLES);
      if (r.method === 'POST' && r.url === '/api/articles') {
        const author = { username: 'jake', bio: 'b', image: 'i', following: false };
        const stamps = { createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' };
        return json(res, 201, { article: { ...JSON.parse(r.body).article, slug: 'x', tagList: [], favorited: false, favoritesCount: 0, author, ...stamps } });
      }
      json(res, 200, {});
    });
    t = await startTestGateway({
      extraBackends: { rest: { url: `${backend.url}/api` }, inference: { url: `${backend.url}/openai` } },
      extraApis: {
        aoai: { path: 'aoai', type: 'http', backend: 'inference', openapi: AZURE_OPENAI, mcp: { enabled: true, tools: ['ChatCompletions_Create', 'embeddings_create'] } },
        conduit: { path: 'conduit', type: 'http', backend: 'rest', openapi: CONDUIT, mcp: { enabled: true, path: 'tools/mcp' } },
      },
    });
    aoai = await mcpClient(`${t.url}/aoai/mcp`, { 'api-key': TEST_KEY });
    conduit = await mcpClient(`${t.url}/conduit/tools/mcp`, { 'ocp-apim-subscription-key': TEST_KEY });
  });
  after(async () => {
    await aoai.close();
    await conduit.close();
    await t.close();
    await backend.close();
  });

  test('tools/list offers the configured subset, every schema valid JSON Schema', async () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    const a = await aoai.listTools();
    assert.deepEqual(a.tools.map((x) => x.name), ['embeddings_create', 'ChatCompletions_Create']);
    const c = await conduit.listTools();
    assert.equal(c.tools.length, 19);
    for (const tool of [...a.tools, ...c.tools]) {
      assert.equal(ajv.validateSchema(tool.inputSchema), true, `${tool.name}: ${ajv.errorsText()}`);
      ajv.compile(tool.inputSchema);
      if (tool.outputSchema !== undefined) ajv.compile(tool.outputSchema);
      // JSON text that round-trips: no cycles, nothing but JSON.
      assert.deepEqual(JSON.parse(JSON.stringify(tool.inputSchema)), tool.inputSchema);
    }
    const chat = a.tools.find((x) => x.name === 'ChatCompletions_Create');
    assert.deepEqual(chat?.inputSchema.required, ['deployment-id', 'api-version', 'body']);
  });

  test('ChatCompletions_Create: path, query and body reach the backend', async () => {
    const body = { messages: [{ role: 'user', content: 'Hi' }], temperature: 0.5 };
    const result = await aoai.callTool({ name: 'ChatCompletions_Create', arguments: { 'deployment-id': 'gpt-4o', 'api-version': '2024-02-01', body } });
    assert.notEqual(result.isError, true, JSON.stringify(result.content));
    const got = backend.received.at(-1);
    assert.equal(got?.url, '/openai/deployments/gpt-4o/chat/completions?api-version=2024-02-01');
    assert.deepEqual(JSON.parse(got?.body ?? ''), body);
    assert.equal((result.structuredContent as { id?: string } | undefined)?.id, 'chatcmpl-1');
  });

  test('an operation left out of the tools subset is an unknown tool', async () => {
    const result = await aoai.callTool({ name: 'Completions_Create', arguments: {} });
    assert.equal(result.isError, true);
  });

  test('Conduit: shared query parameters and a components/requestBodies body', async () => {
    const list = await conduit.callTool({ name: 'GetArticles', arguments: { tag: 'dragons', limit: 5 } });
    assert.notEqual(list.isError, true, JSON.stringify(list.content));
    assert.equal(backend.received.at(-1)?.url, '/api/articles?tag=dragons&limit=5');
    const article = { title: 'T', description: 'D', body: 'B' };
    const created = await conduit.callTool({ name: 'CreateArticle', arguments: { body: { article } } });
    assert.notEqual(created.isError, true, JSON.stringify(created.content));
    assert.deepEqual(JSON.parse(backend.received.at(-1)?.body ?? ''), { article });
    assert.equal(t.usages.findLast((u) => u.api === 'conduit' && u.operation !== 'mcp')?.operation, 'CreateArticle');
  });
});
