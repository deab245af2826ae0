/**
 * URLs computed at run time cannot reach internal addresses: a `set-backend-service base-url`
 * and a `send-request` URL taken from a request header, for every address form of the SSRF
 * corpus, never reach a canary server on 127.0.0.1; redirects are not followed; a constant
 * base-url (the operator's) still works, and `outbound.allowPrivateNetworks` opens the way.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';

const TARGET = '@(context.Request.Headers.GetValueOrDefault(&quot;x-target&quot;, &quot;&quot;))';
const ON_ERROR = '<on-error><set-header name="x-reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header></on-error>';
const BASE_URL_POLICY = `<policies><inbound><set-backend-service base-url="${TARGET}" /></inbound><backend><forward-request /></backend><outbound />${ON_ERROR}</policies>`;
const SEND_REQUEST_POLICY = `<policies><inbound><send-request mode="new" response-variable-name="side" timeout="5"><set-url>${TARGET}</set-url></send-request>
  <return-response><set-status code="200" /><set-header name="x-side-status" exists-action="override"><value>@(((IResponse)context.Variables["side"]).StatusCode.ToString())</value></set-header></return-response></inbound><backend><forward-request /></backend><outbound />${ON_ERROR}</policies>`;

let canary: Server;
let redirector: Server;
let canaryHits = 0;
let port = 0;
let redirectPort = 0;

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

before(async () => {
  canary = createServer((req, res) => {
    canaryHits++;
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"canary":true}');
  });
  port = await listen(canary);
  redirector = createServer((req, res) => {
    req.resume();
    res.writeHead(302, { location: `http://127.0.0.1:${port}/stolen` }).end();
  });
  redirectPort = await listen(redirector);
});
after(async () => {
  await new Promise((resolve) => canary.close(resolve));
  await new Promise((resolve) => redirector.close(resolve));
});

/** E34's address forms (and more) for the canary on 127.0.0.1, plus other internal ranges. */
function corpus(): string[] {
  const p = port;
  return [
    `http://127.0.0.1:${p}/`,
    `http://127.1:${p}/`,
    `http://0x7f000001:${p}/`,
    `http://2130706433:${p}/`,
    `http://0177.0.0.1:${p}/`,
    `http://0x7f.0.0.1:${p}/`,
    `http://localhost:${p}/`,
    `http://localhost.:${p}/`,
    `http://user@127.0.0.1:${p}/`,
    `http://[::1]:${p}/`,
    `http://[::ffff:127.0.0.1]:${p}/`,
    `http://[::ffff:7f00:1]:${p}/`,
    `http://[::127.0.0.1]:${p}/`,
    `http://[::7f00:1]:${p}/`,
    `http://[::ffff:0:7f00:1]:${p}/`,
    `http://[64:ff9b::7f00:1]:${p}/`,
    `http://[2002:7f00:1::]:${p}/`,
    `http://[::]:${p}/`,
    `http://0.0.0.0:${p}/`,
    `http://0:${p}/`,
    `http://169.254.169.254:${p}/`,
    `http://10.0.0.1:${p}/`,
    `http://172.16.0.1:${p}/`,
    `http://192.168.0.1:${p}/`,
    `http://100.64.0.1:${p}/`,
    `http://[fc00::1]:${p}/`,
    `http://[fe80::1]:${p}/`,
    `file:///etc/passwd`,
    `gopher://127.0.0.1:${p}/`,
  ];
}

function call(t: TestGateway, path: string, target: string): Promise<Response> {
  return fetch(`${t.url}${path}`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json', 'x-target': target },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    redirect: 'manual',
  });
}

async function withGateway(fn: (t: TestGateway) => Promise<void>, outbound?: Record<string, unknown>): Promise<void> {
  const t = await startTestGateway({
    ...(outbound !== undefined && { config: { gateway: { listen: '127.0.0.1:0' }, outbound } }),
    extraApis: {
      'by-base-url': { path: 'dyn', type: 'openai', backend: 'sim', policies: BASE_URL_POLICY },
      'by-send-request': { path: 'side', type: 'openai', backend: 'sim', policies: SEND_REQUEST_POLICY },
      'by-constant': { path: 'fixed', type: 'openai', backend: 'sim', policies: `<policies><inbound><set-backend-service base-url="http://127.0.0.1:${port}" /></inbound><backend><forward-request /></backend><outbound /><on-error /></policies>` },
    },
  });
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

void test('no base-url or send-request URL from a header reaches the canary, in any address form', () =>
  withGateway(async (t) => {
    const before = canaryHits;
    for (const target of corpus()) {
      const viaBase = await call(t, '/dyn/v1/chat/completions', target);
      // A name the machine cannot resolve ('localhost.' on some resolvers) fails before any connection.
      const unresolved = target.includes('localhost.');
      const reason = viaBase.headers.get('x-reason');
      const baseOk = reason === 'GW_ERR_BACKEND_FORBIDDEN_TARGET' || (reason === 'GW_ERR_BACKEND_NOT_CONFIGURED' && !target.startsWith('http:')) || (unresolved && reason === 'GW_ERR_BACKEND_UNREACHABLE');
      assert.ok(viaBase.status >= 500 && baseOk, `base-url ${target}: ${viaBase.status} ${reason}`);
      await viaBase.arrayBuffer();
      const viaSide = await call(t, '/side/v1/chat/completions', target);
      const sideReason = viaSide.headers.get('x-reason');
      const sideOk = sideReason === 'GW_ERR_SEND_REQUEST_FORBIDDEN_TARGET' || (unresolved && sideReason === 'GW_ERR_SEND_REQUEST_FAILED');
      assert.ok(viaSide.status >= 500 && sideOk, `send-request ${target}: ${viaSide.status} ${sideReason}`);
      await viaSide.arrayBuffer();
    }
    assert.equal(canaryHits, before, 'the canary was reached');
  }));

void test('a redirect from an allowed host is not followed to an internal address', () =>
  withGateway(
    async (t) => {
      const before = canaryHits;
      const viaBase = await call(t, '/dyn/v1/chat/completions', `http://localhost:${redirectPort}`);
      assert.equal(viaBase.status, 302, 'the redirect goes back to the client');
      await viaBase.arrayBuffer();
      const viaSide = await call(t, '/side/v1/chat/completions', `http://localhost:${redirectPort}/`);
      assert.equal(viaSide.headers.get('x-side-status'), '302');
      await viaSide.arrayBuffer();
      // The allowed name does not make its address allowed under another spelling.
      const literal = await call(t, '/dyn/v1/chat/completions', `http://127.0.0.1:${port}`);
      assert.equal(literal.headers.get('x-reason'), 'GW_ERR_BACKEND_FORBIDDEN_TARGET');
      await literal.arrayBuffer();
      assert.equal(canaryHits, before);
    },
    { allowPrivateNetworks: false, allowedHosts: ['localhost'] },
  ));

void test('a constant base-url is the operator’s and is trusted; allowPrivateNetworks opens computed URLs', async () => {
  await withGateway(async (t) => {
    const before = canaryHits;
    const res = await call(t, '/fixed/v1/chat/completions', '');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { canary: true });
    assert.equal(canaryHits, before + 1);
  });
  await withGateway(
    async (t) => {
      const before = canaryHits;
      const res = await call(t, '/dyn/v1/chat/completions', `http://[::ffff:127.0.0.1]:${port}`);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      assert.equal(canaryHits, before + 1);
    },
    { allowPrivateNetworks: true, allowedHosts: [] },
  );
});
