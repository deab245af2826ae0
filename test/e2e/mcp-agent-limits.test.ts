/**
 * The seed's Pattern 3, verbatim: `rate-limit-by-key` on `X-Agent-Id` at API scope limits each
 * agent's MCP tool calls (10 a minute); the 11th is a tool error the client shows, with the wait,
 * and another agent is not affected. initialize and tools/list are not tool calls and do not count.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';
import { json, mcpClient, PETSTORE, startRestBackend, type RestBackend } from '../helpers/mcp.ts';
import { seedBlock } from '../helpers/policy-docs.ts';

let backend: RestBackend;
let t: TestGateway;

before(async () => {
  backend = await startRestBackend((_r, res) => json(res, 200, { id: 1, name: 'Rex', photoUrls: [] }));
  const pattern3 = seedBlock('X-Agent-Id');
  t = await startTestGateway({
    clock: () => 1_700_000_000_000,
    extraBackends: { petstore: { url: backend.url } },
    extraApis: { petstore: { path: 'petstore', type: 'http', backend: 'petstore', openapi: PETSTORE, mcp: { enabled: true }, policies: `<policies>${pattern3}</policies>` } },
  });
});
after(async () => {
  await t.close();
  await backend.close();
});

test("Pattern 3: each agent gets 10 tool calls a minute; the 11th is a tool error naming the wait; another agent is unaffected", async () => {
  const url = `${t.url}/petstore/mcp`;
  const agentA = await mcpClient(url, { 'api-key': TEST_KEY, 'X-Agent-Id': 'agent-a' });
  const agentB = await mcpClient(url, { 'api-key': TEST_KEY, 'X-Agent-Id': 'agent-b' });
  try {
    // Listing tools is not a tool call.
    for (let i = 0; i < 3; i++) await agentA.listTools();
    for (let i = 1; i <= 10; i++) {
      const r = await agentA.callTool({ name: 'getPetById', arguments: { petId: i } });
      assert.notEqual(r.isError, true, `call ${i}: ${JSON.stringify(r.content)}`);
    }
    const refused = await agentA.callTool({ name: 'getPetById', arguments: { petId: 11 } });
    assert.equal(refused.isError, true);
    const text = JSON.stringify(refused.content);
    assert.match(text, /HTTP 429 \(retry after \d+ s\)/);
    assert.match(text, /Rate limit is exceeded/);
    assert.equal(backend.received.length, 10);
    const other = await agentB.callTool({ name: 'getPetById', arguments: { petId: 1 } });
    assert.notEqual(other.isError, true);
    assert.equal(backend.received.length, 11);
    // The refusal is metered too, as the operation with its status.
    assert.ok(t.usages.some((u) => u.operation === 'getPetById' && u.status === 429));
  } finally {
    await agentA.close();
    await agentB.close();
  }
});
