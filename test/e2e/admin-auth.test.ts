/**
 * Admin keys (RELIABILITY E33): with `admin.keys` set, every admin path but exactly /health and
 * /ready answers 401 in the admin's JSON error format without a valid key, whatever its spelling
 * (`//status`, `%2e` segments, unknown paths, absolute-form targets, a spoofed Host, any method);
 * with a key the routes answer. Off loopback, keys are mandatory: the gateway refuses to start.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { loadConfigObject, ConfigError } from '../../src/config/load.ts';
import { startGateway } from '../../src/gateway/gateway.ts';
import { createLogger } from '../../src/observability/logger.ts';

const ADMIN_KEY = 'adm-key-canary-5d1e0c7b9a';
const OTHER_KEY = 'adm-key-other-0b8f2a6c41';

let t: TestGateway;
before(async () => {
  t = await startTestGateway({
    config: {
      admin: { listen: '127.0.0.1:0', keys: ['{{admin-key}}', '{{admin-key-2}}'] },
      namedValues: {
        'backend-key': { value: 'backend-secret-key-canary-7f3a9c', secret: true },
        'team-key': { value: 'tg-test-key-0123456789abcdef', secret: true },
        'admin-key': { value: ADMIN_KEY, secret: true },
        'admin-key-2': { value: OTHER_KEY, secret: true },
      },
    },
  });
});
after(() => t.close());

/** A raw request (the path exactly as given, any Host), answered status and body. */
function raw(method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const url = new URL(t.gw.adminUrl ?? '');
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers, setHost: !('host' in headers) }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

// Every route the admin listener has, and spellings that must not slip past the key check.
// The dashboard's fixed static files are the one exception (below): anything else under /dashboard is not.
const PROTECTED = ['/status', '/metrics', '/usage', '/dashboard/nope.js', '/dashboard/../status', '/dashboard/%2e%2e/status', '/dashboard//app.js', '/', '/nope', '//status', '/status/', '/%2e/status', '/./status', '/x/../status', '/STATUS', '/%73tatus', '/status?x=1', 'http://127.0.0.1/status', '//health', '/health/', '/ready/x'];

test('without a key every admin path but /health and /ready is 401 in the admin JSON format', async () => {
  for (const path of PROTECTED) {
    for (const method of ['GET', 'HEAD', 'POST']) {
      const res = await raw(method, path);
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.equal(res.headers['www-authenticate'], 'Bearer realm="tollgate-admin"');
      if (method !== 'HEAD') assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'GW_ERR_ADMIN_UNAUTHORIZED', `${method} ${path}`);
    }
  }
  for (const path of ['/health', '/ready', '/health?probe=1']) assert.equal((await raw('GET', path)).status, 200, path);
});

test('the dashboard page and its static files answer without a key (they hold no data), only to GET and HEAD', async () => {
  for (const path of ['/dashboard', '/dashboard/app.js', '/dashboard/uPlot.esm.js']) {
    const res = await raw('GET', path);
    assert.equal(res.status, 200, path);
    assert.doesNotMatch(res.body, /team-a|tg-test-key|backend-secret/, path);
    assert.equal((await raw('POST', path)).status, 401, `POST ${path}`);
  }
});

test('a wrong, empty or misplaced key, or a spoofed Host, is still 401', async () => {
  const cases: Array<Record<string, string>> = [
    { authorization: 'Bearer wrong-key' },
    { authorization: `Bearer ${ADMIN_KEY}x` },
    { authorization: `Bearer ${ADMIN_KEY.slice(0, -1)}` },
    { authorization: 'Bearer ' },
    { authorization: `Basic ${Buffer.from(`admin:${ADMIN_KEY}`).toString('base64')}` },
    { 'ocp-apim-subscription-key': ADMIN_KEY },
    { 'x-api-key': ADMIN_KEY },
    { host: 'localhost' },
    { host: 'localhost/#@x' },
    { host: '127.0.0.1', 'x-forwarded-for': '127.0.0.1' },
  ];
  for (const headers of cases) {
    for (const path of ['/status', '/metrics']) assert.equal((await raw('GET', path, headers)).status, 401, `${path} ${JSON.stringify(headers)}`);
  }
});

test('with a key (Authorization: Bearer or api-key, any of admin.keys) the routes answer', async () => {
  const keyed: Array<Record<string, string>> = [{ authorization: `Bearer ${ADMIN_KEY}` }, { authorization: `bearer ${OTHER_KEY}` }, { 'api-key': ADMIN_KEY }];
  for (const headers of keyed) {
    const status = await raw('GET', '/status', headers);
    assert.equal(status.status, 200);
    // The admin key is a secret named value: /status lists it by name, never its value.
    assert.ok(!status.body.includes(ADMIN_KEY) && !status.body.includes(OTHER_KEY));
    assert.equal((await raw('GET', '/metrics', headers)).status, 200);
    assert.equal((await raw('GET', '/nope', headers)).status, 404);
    assert.equal((await raw('GET', '//status', headers)).status, 404);
    assert.equal((await raw('POST', '/status', headers)).status, 405);
  }
});

test('tollgate status sends the admin key from TOLLGATE_ADMIN_KEY and says when one is needed', async () => {
  const main = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
  const run = (env: Record<string, string>): Promise<{ code: number; out: string }> =>
    new Promise((resolve) => {
      const { TOLLGATE_ADMIN_KEY: _drop, ...rest } = process.env;
      execFile(process.execPath, [main, 'status', '--admin', t.gw.adminUrl ?? ''], { env: { ...rest, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, out: `${stdout}${stderr}` });
      });
    });
  const withKey = await run({ TOLLGATE_ADMIN_KEY: ADMIN_KEY });
  assert.equal(withKey.code, 0, withKey.out);
  assert.match(withKey.out, /BACKEND\s+CIRCUIT/);
  const without = await run({});
  assert.equal(without.code, 1);
  assert.match(without.out, /HTTP 401: the admin listener needs a key/);
});

test('the admin key is never logged', () => {
  assert.ok(!t.logs.join('\n').includes(ADMIN_KEY));
});

test('an admin listener off loopback without admin.keys is refused, at load and at start', async () => {
  const base = { gateway: { listen: '127.0.0.1:0' }, namedValues: { k: { value: 'adm-key-123456', secret: true }, plain: { value: 'not-a-secret-1' } } };
  assert.throws(
    () => loadConfigObject({ ...base, admin: { listen: '0.0.0.0:0' } }),
    (err: unknown) => err instanceof ConfigError && /admin listener 0\.0\.0\.0:0 is not on loopback and admin\.keys is empty/.test(err.message),
  );
  assert.throws(
    () => loadConfigObject({ ...base, admin: { listen: '[::]:0', keys: ['{{plain}}'] } }),
    (err: unknown) => err instanceof ConfigError && /an admin key must be a secret named value/.test(err.message),
  );
  // `start --admin-listen` moves the listener after the load: startGateway checks again.
  const loaded = loadConfigObject({ ...base, admin: { listen: '127.0.0.1:0' } });
  const moved = { ...loaded, config: { ...loaded.config, admin: { ...loaded.config.admin, listen: '0.0.0.0:0' } } };
  await assert.rejects(startGateway(moved, { logger: createLogger('silent'), defaultMetrics: false }), /not on loopback/);
  // With a key it is accepted (not started here: tests only bind loopback).
  assert.doesNotThrow(() => loadConfigObject({ ...base, admin: { listen: '0.0.0.0:0', keys: ['{{k}}'] } }));
});

test('on loopback a reload may drop the admin keys: the listener follows the new configuration', async () => {
  const current = t.gw.current().config;
  const next = loadConfigObject({ gateway: current.gateway, admin: { listen: '127.0.0.1:0' } });
  await t.gw.reload({ ...next, config: { ...next.config, backends: current.backends, apis: current.apis, products: current.products, subscriptions: current.subscriptions } });
  assert.equal((await raw('GET', '/status')).status, 200);
});
