/**
 * Pass-through MCP servers (`apis.<id>.type: mcp`): the official SDK client talks to a real SDK
 * MCP server through the gateway. Sessions, SSE answers, the server's GET stream and DELETE pass
 * through; the subscription key is checked per call; the backend's credentials are added; and a
 * per-agent limit on `tools/call` (via `context.Variables["mcp-method"]`) is enforced.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startTestGateway, TEST_KEY, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { startTestMcpServer, type TestMcpServer } from '../helpers/mcp-server.ts';

const BACKEND_SECRET = 'mcp-backend-secret-4b1d';

// Pattern 3's per-agent limit, counting tool calls only (initialize, tools/list and notifications pass).
const POLICIES = `<policies><inbound><base />
  <set-header name="x-seen-tool" exists-action="override"><value>@((string)context.Variables["mcp-tool"])</value></set-header>
  <choose>
    <when condition="@((string)context.Variables[&quot;mcp-method&quot;] == &quot;tools/call&quot;)">
      <rate-limit-by-key calls="3" renewal-period="60" counter-key="@(context.Request.Headers.GetValueOrDefault(&quot;X-Agent-Id&quot;, &quot;anonymous&quot;))" />
    </when>
  </choose>
</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`;

let mcp: TestMcpServer;
let t: TestGateway;

before(async () => {
  mcp = await startTestMcpServer(['x-backend-secret', BACKEND_SECRET]);
  t = await startTestGateway({
    clock: () => 1_700_000_000_000,
    extraBackends: { tools: { url: mcp.url, credentials: { header: { 'x-backend-secret': BACKEND_SECRET } } } },
    extraApis: { tools: { path: 'tools', type: 'mcp', backend: 'tools', policies: POLICIES } },
  });
});
after(async () => {
  await t.close();
  await mcp.close();
});

async function connect(url: string, headers: Record<string, string>): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'tollgate-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  await client.connect(transport);
  return { client, transport };
}

test('initialize, tools/list and tools/call through the gateway answer as the server does directly', async () => {
  const direct = await connect(mcp.url, { 'x-backend-secret': BACKEND_SECRET });
  const proxied = await connect(`${t.url}/tools`, { 'api-key': TEST_KEY, 'X-Agent-Id': 'lister' });
  try {
    assert.deepEqual(proxied.client.getServerVersion(), direct.client.getServerVersion());
    assert.deepEqual(await proxied.client.listTools(), await direct.client.listTools());
    const args = { name: 'add', arguments: { a: 2, b: 40 } };
    const viaGateway = await proxied.client.callTool(args);
    assert.deepEqual(viaGateway, await direct.client.callTool(args));
    assert.deepEqual(viaGateway.content, [{ type: 'text', text: '42' }]);
    // The backend got its credential from the gateway, never the client's key.
    const forwarded = mcp.seen.filter((r) => r.headers['x-seen-tool'] !== undefined);
    assert.ok(forwarded.length > 0);
    for (const r of forwarded) {
      assert.equal(r.headers['api-key'], undefined);
      assert.equal(r.headers['x-backend-secret'], BACKEND_SECRET);
    }
    assert.ok(forwarded.some((r) => r.headers['x-seen-tool'] === 'add'), 'the tool name is visible to policies');
    assert.ok(t.usages.some((u) => u.api === 'tools' && u.operation === 'mcp' && u.status === 200));
  } finally {
    await direct.client.close();
    await proxied.client.close();
  }
});

test('the session id and protocol version pass through both ways; the server GET stream reaches the client; DELETE ends the session', async () => {
  const { client, transport } = await connect(`${t.url}/tools`, { 'api-key': TEST_KEY, 'X-Agent-Id': 'session' });
  try {
    const sessionId = transport.sessionId;
    assert.ok(sessionId !== undefined && sessionId !== '', 'the backend session id reached the client');
    await client.listTools();
    const later = mcp.seen.filter((r) => r.headers['mcp-session-id'] === sessionId);
    assert.ok(later.some((r) => r.method === 'POST'));
    assert.ok(later.every((r) => typeof r.headers['mcp-protocol-version'] === 'string'));
    // The client opens the server's stream (GET) after initialize; a server notification arrives on it.
    await waitFor(() => later.length > 0 && mcp.seen.some((r) => r.method === 'GET' && r.headers['mcp-session-id'] === sessionId), 10_000, 'GET stream');
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
    mcp.notifyToolsChanged();
    await waitFor(() => changed > 0, 10_000, 'tools/list_changed over the GET stream');
    await transport.terminateSession();
    await waitFor(() => mcp.closedSessions.includes(sessionId), 10_000, 'session closed by DELETE');
    assert.ok(mcp.seen.some((r) => r.method === 'DELETE' && r.headers['mcp-session-id'] === sessionId && r.headers['x-backend-secret'] === BACKEND_SECRET));
  } finally {
    await client.close();
  }
});

test('a tool answer streamed as SSE passes through with every progress notification before the result', async () => {
  const { client, transport } = await connect(`${t.url}/tools`, { 'api-key': TEST_KEY, 'X-Agent-Id': 'streamer' });
  try {
    const progress: number[] = [];
    const result = await client.callTool({ name: 'count', arguments: { n: 3 } }, undefined, { onprogress: (p) => progress.push(p.progress) });
    assert.deepEqual(progress, [1, 2, 3]);
    assert.deepEqual(result.content, [{ type: 'text', text: 'counted to 3' }]);
    // Unbuffered: the first notification arrives while the server still holds the call open.
    const held: number[] = [];
    const pending = client.callTool({ name: 'hold', arguments: {} }, undefined, { onprogress: (p) => held.push(p.progress) });
    await waitFor(() => held.length === 1, 10_000, 'progress before the answer');
    mcp.release();
    assert.deepEqual((await pending).content, [{ type: 'text', text: 'released' }]);
    // And it was an SSE answer the gateway passed on, as the server sent it.
    const raw = await fetch(`${t.url}/tools`, {
      method: 'POST',
      headers: { 'api-key': TEST_KEY, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': transport.sessionId ?? '', 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/list' }),
    });
    assert.equal(raw.status, 200);
    assert.match(raw.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.match(await raw.text(), /^event: message\ndata: \{.*"tools":/m);
  } finally {
    await client.close();
  }
});

test('without a subscription key the client gets 401 and the backend is not called', async () => {
  const before = mcp.seen.length;
  const client = new Client({ name: 'anon', version: '1.0.0' });
  await assert.rejects(client.connect(new StreamableHTTPClientTransport(new URL(`${t.url}/tools`))), (err: { code?: unknown; message: string }) => {
    assert.equal(err.code, 401);
    assert.match(err.message, /missing subscription key/);
    return true;
  });
  assert.equal(mcp.seen.length, before);
  await client.close();
});

test('per-agent limit on tools/call: the 4th call of one agent is refused with 429, listing and another agent are unaffected', async () => {
  const a = await connect(`${t.url}/tools`, { 'api-key': TEST_KEY, 'X-Agent-Id': 'agent-a' });
  const b = await connect(`${t.url}/tools`, { 'api-key': TEST_KEY, 'X-Agent-Id': 'agent-b' });
  try {
    for (let i = 1; i <= 3; i++) assert.deepEqual((await a.client.callTool({ name: 'echo', arguments: { text: `hi ${i}` } })).content, [{ type: 'text', text: `hi ${i}` }]);
    const calls = mcp.seen.filter((r) => r.headers['x-seen-tool'] === 'echo').length;
    await assert.rejects(a.client.callTool({ name: 'echo', arguments: { text: 'one too many' } }), (err: { code?: unknown; message: string }) => {
      assert.equal(err.code, 429);
      assert.match(err.message, /Rate limit is exceeded/);
      return true;
    });
    assert.equal(mcp.seen.filter((r) => r.headers['x-seen-tool'] === 'echo').length, calls, 'the refused call never reached the server');
    await a.client.listTools();
    assert.deepEqual((await b.client.callTool({ name: 'echo', arguments: { text: 'b' } })).content, [{ type: 'text', text: 'b' }]);
    assert.ok(t.usages.some((u) => u.api === 'tools' && u.status === 429));
  } finally {
    await a.client.close();
    await b.client.close();
  }
});

test('a JSON-RPC batch, invalid JSON and other methods are refused clearly, before the backend', async () => {
  const before = mcp.seen.length;
  const post = (body: string): Promise<Response> =>
    fetch(`${t.url}/tools`, { method: 'POST', headers: { 'api-key': TEST_KEY, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body });
  const batch = await post(JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'tools/list' }, { jsonrpc: '2.0', id: 2, method: 'tools/list' }]));
  assert.equal(batch.status, 400);
  const batchError = ((await batch.json()) as { error: { code: string; message: string } }).error;
  assert.equal(batchError.code, 'GW_ERR_INVALID_REQUEST');
  assert.match(batchError.message, /batches are not accepted/);
  const broken = await post('{"jsonrpc":');
  assert.equal(broken.status, 400);
  assert.match(((await broken.json()) as { error: { message: string } }).error.message, /not valid JSON/);
  const noName = await post(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: {} }));
  assert.equal(noName.status, 400);
  const put = await fetch(`${t.url}/tools`, { method: 'PUT', headers: { 'api-key': TEST_KEY }, body: '{}' });
  assert.equal(put.status, 405);
  assert.equal(put.headers.get('allow'), 'POST, GET, DELETE');
  await put.arrayBuffer();
  const sub = await fetch(`${t.url}/tools/other`, { method: 'POST', headers: { 'api-key': TEST_KEY }, body: '{}' });
  assert.equal(sub.status, 404);
  await sub.arrayBuffer();
  assert.equal(mcp.seen.length, before);
});

test('a type mcp API without a backend, or with operation policies other than "mcp", does not load', async () => {
  await assert.rejects(startTestGateway({ extraApis: { tools: { path: 'tools', type: 'mcp' } } }), /an API of type mcp needs a backend/);
  await assert.rejects(
    startTestGateway({
      extraBackends: { tools: { url: mcp.url } },
      extraApis: { tools: { path: 'tools', type: 'mcp', backend: 'tools', operations: { 'tools/call': { policies: '<policies><inbound><base /></inbound></policies>' } } } },
    }),
    /has one operation, "mcp"/,
  );
});
