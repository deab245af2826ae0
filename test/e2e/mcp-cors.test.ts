/**
 * CORS on an imported API's MCP endpoint: its preflights are answered by the API's cors policy
 * (no key, no other policy, nothing to the backend), and its answers carry the policy's headers,
 * so a browser page on another origin can list the tools. Checked with plain fetch, the SDK
 * client, and headless Chromium (`/usr/bin/chromium`, scripts/ensure-chromium.sh, driven by
 * playwright-core as in dashboard.test.ts) loading a page from a second loopback origin.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { chromium, type Browser } from 'playwright-core';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';
import { json, mcpClient, PETSTORE, startRestBackend, type RestBackend } from '../helpers/mcp.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const APP = 'https://app.example';
const PROTOCOL = '2025-06-18';

/** What a browser MCP client needs (docs/mcp.md, "Browser clients"). */
function corsPolicy(origins: string[]): string {
  return `<policies><inbound><base />
    <cors allow-credentials="false" terminate-unmatched-request="true">
      <allowed-origins>${origins.map((o) => `<origin>${o}</origin>`).join('')}</allowed-origins>
      <allowed-methods preflight-result-max-age="300"><method>POST</method></allowed-methods>
      <allowed-headers><header>content-type</header><header>mcp-protocol-version</header><header>api-key</header></allowed-headers>
      <expose-headers><header>x-request-id</header></expose-headers>
    </cors>
    <trace source="mcp-cors-test" severity="information"><message>inbound-policy-ran</message></trace>
  </inbound></policies>`;
}

/** The page a browser MCP client would be: initialize, then tools/list, with the key in a header. */
const PAGE = `<!doctype html><title>mcp</title><pre id="out"></pre><script>
(async () => {
  const q = new URLSearchParams(location.search);
  const url = q.get('mcp');
  const base = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'api-key': q.get('key') };
  const post = (id, method, params, extra) => fetch(url, { method: 'POST', headers: { ...base, ...extra }, body: JSON.stringify({ jsonrpc: '2.0', id, method, params }) }).then((r) => r.json());
  try {
    const init = await post(1, 'initialize', { protocolVersion: '${PROTOCOL}', capabilities: {}, clientInfo: { name: 'page', version: '1' } });
    const version = { 'mcp-protocol-version': init.result.protocolVersion };
    const list = await post(2, 'tools/list', {}, version);
    document.getElementById('out').textContent = JSON.stringify({ tools: list.result.tools.map((t) => t.name) });
  } catch (err) {
    document.getElementById('out').textContent = JSON.stringify({ error: String(err) });
  }
})();
</script>`;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

function preflight(url: string, origin = APP): Promise<Response> {
  return fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, mcp-protocol-version, api-key' } });
}

function rpc(url: string, headers: Record<string, string>, id: number, method: string, params: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
  });
}

const INIT = { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'fetch', version: '1' } };

describe('the MCP endpoint of an API with a cors policy', () => {
  let backend: RestBackend;
  let t: TestGateway;
  // Two page servers: two origins, one allowed by the policy, one not.
  const pages: Server[] = [];
  let allowedPage: string;
  let otherPage: string;
  let mcpUrl: string;

  before(async () => {
    backend = await startRestBackend((_r, res) => json(res, 200, { id: 7, name: 'Rex', photoUrls: [] }));
    for (let i = 0; i < 2; i++) {
      pages.push(
        createServer((_req, res) => {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end(PAGE);
        }),
      );
    }
    allowedPage = await listen(pages[0] as Server);
    otherPage = await listen(pages[1] as Server);
    const petstore = { type: 'http', backend: 'petstore', openapi: PETSTORE, mcp: { enabled: true } };
    t = await startTestGateway({
      extraBackends: { petstore: { url: backend.url } },
      extraApis: {
        petstore: { ...petstore, path: 'petstore', policies: corsPolicy([APP, allowedPage]) },
        plain: { ...petstore, path: 'plain' },
      },
    });
    mcpUrl = `${t.url}/petstore/mcp`;
  });
  after(async () => {
    await t.close();
    await backend.close();
    for (const p of pages) await close(p);
  });

  test('a preflight from an allowed origin is answered 200 with the policy headers, without a key and without the backend', async () => {
    const res = await preflight(mcpUrl);
    assert.equal(res.status, 200, await res.text());
    assert.equal(res.headers.get('access-control-allow-origin'), APP);
    assert.equal(res.headers.get('access-control-allow-methods'), 'POST');
    assert.equal(res.headers.get('access-control-allow-headers'), 'content-type, mcp-protocol-version, api-key');
    assert.equal(res.headers.get('access-control-max-age'), '300');
    assert.equal(backend.received.length, 0);
    assert.doesNotMatch(t.logs.join('\n'), /inbound-policy-ran/);
    const usage = t.usages.at(-1);
    assert.equal(usage?.operation, 'mcp');
    assert.equal(usage?.status, 200);
  });

  test('a preflight from another origin is ended with 200 and no allow-origin (terminate-unmatched-request)', async () => {
    const res = await preflight(mcpUrl, 'https://evil.example');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    assert.equal(res.headers.get('access-control-allow-methods'), null);
  });

  test('a preflight to the MCP endpoint of an API without a cors policy is refused 405, as on its operations', async () => {
    for (const path of ['/plain/mcp', '/plain/pet/7']) {
      const res = await preflight(t.url + path);
      assert.equal(res.status, 405, path);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'GW_ERR_METHOD_NOT_ALLOWED');
    }
  });

  test('initialize and tools/list by plain fetch from an allowed origin carry the cors headers', async () => {
    const headers = { 'api-key': TEST_KEY, origin: APP };
    const init = await rpc(mcpUrl, headers, 1, 'initialize', INIT);
    assert.equal(init.status, 200);
    assert.equal(init.headers.get('access-control-allow-origin'), APP);
    assert.equal(init.headers.get('vary'), 'Origin');
    assert.equal(init.headers.get('access-control-expose-headers'), 'x-request-id');
    const initBody = (await init.json()) as { result: { serverInfo: { name: string } } };
    assert.equal(initBody.result.serverInfo.name, 'tollgate-petstore');
    const list = await rpc(mcpUrl, { ...headers, 'mcp-protocol-version': PROTOCOL }, 2, 'tools/list', {});
    assert.equal(list.status, 200);
    assert.equal(list.headers.get('access-control-allow-origin'), APP);
    const { result } = (await list.json()) as { result: { tools: { name: string }[] } };
    assert.ok(result.tools.some((x) => x.name === 'getPetById'));
    // The MCP request itself runs the cors policy only; the others run on tool calls.
    assert.equal(backend.received.length, 0);
    assert.doesNotMatch(t.logs.join('\n'), /inbound-policy-ran/);
  });

  test('an answer to another origin carries no allow-origin', async () => {
    const res = await rpc(mcpUrl, { 'api-key': TEST_KEY, origin: 'https://evil.example' }, 1, 'initialize', INIT);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });

  test('a refusal before the cors policy (no key) carries the same CORS headers as on the API operations', async () => {
    const mcp = await rpc(mcpUrl, { origin: APP }, 1, 'initialize', INIT);
    const rest = await fetch(`${t.url}/petstore/pet/7`, { headers: { origin: APP } });
    assert.equal(mcp.status, 401);
    assert.equal(rest.status, 401);
    assert.equal(((await mcp.json()) as { error: { code: string } }).error.code, 'GW_ERR_AUTH_MISSING_KEY');
    assert.equal(mcp.headers.get('access-control-allow-origin'), rest.headers.get('access-control-allow-origin'));
  });

  test('the SDK client still connects, lists and calls tools', async () => {
    const client = await mcpClient(mcpUrl, { 'api-key': TEST_KEY });
    try {
      const { tools } = await client.listTools();
      assert.equal(tools.length, 19);
      const result = await client.callTool({ name: 'getPetById', arguments: { petId: 7 } });
      assert.equal(result.isError, undefined);
      assert.equal(backend.received.at(-1)?.url, '/pet/7');
      assert.match(t.logs.join('\n'), /inbound-policy-ran/);
    } finally {
      await client.close();
    }
  });

  describe('in a browser', () => {
    let browser: Browser;
    before(async () => {
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    });
    after(async () => {
      await browser.close();
    });

    async function runPage(origin: string): Promise<{ tools?: string[]; error?: string }> {
      const page = await browser.newPage();
      try {
        await page.goto(`${origin}/?${new URLSearchParams({ mcp: mcpUrl, key: TEST_KEY }).toString()}`);
        await page.locator('#out').filter({ hasText: /./ }).waitFor({ timeout: 10_000 });
        return JSON.parse((await page.locator('#out').textContent()) ?? '{}') as { tools?: string[]; error?: string };
      } finally {
        await page.close();
      }
    }

    test('a page on an allowed origin calls the MCP endpoint and sees the tools', async () => {
      const out = await runPage(allowedPage);
      assert.equal(out.error, undefined);
      assert.ok(out.tools?.includes('getPetById'), JSON.stringify(out));
      assert.equal(out.tools?.length, 19);
    });

    test('a page on an origin the policy does not allow is blocked by the browser', async () => {
      const out = await runPage(otherPage);
      assert.equal(out.tools, undefined);
      assert.match(out.error ?? '', /TypeError: Failed to fetch/);
    });
  });
});

describe('a cors policy at product scope', () => {
  let backend: RestBackend;
  let t: TestGateway;

  before(async () => {
    backend = await startRestBackend((_r, res) => json(res, 200, {}));
    t = await startTestGateway({
      extraBackends: { petstore: { url: backend.url } },
      extraApis: { petstore: { path: 'petstore', type: 'http', backend: 'petstore', openapi: PETSTORE, mcp: { enabled: true } } },
      config: { products: { starter: { apis: ['openai', 'azure-openai', 'petstore'], policies: corsPolicy([APP]) } } },
    });
  });
  after(async () => {
    await t.close();
    await backend.close();
  });

  test('applies to MCP requests with a key of the product, but cannot answer a preflight (it carries no key)', async () => {
    const res = await rpc(`${t.url}/petstore/mcp`, { 'api-key': TEST_KEY, origin: APP }, 1, 'initialize', INIT);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), APP);
    for (const path of ['/petstore/mcp', '/petstore/pet/7']) assert.equal((await preflight(t.url + path)).status, 405, path);
  });
});
