/**
 * Secret canaries (RELIABILITY E32): unique canary values as backend keys and secret named values,
 * every error path driven through real sockets (backend 401 and 404, an unreachable backend, a
 * backend id and a metric value computed from a secret, an expression failing on a secret, the
 * trace policy at information and verbose level, Redis down with a password in its URL, /status,
 * /metrics, the debug log), then no
 * canary may appear, in any form, in the logs, the error bodies, the admin answers or the usage
 * records.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { loadConfigObject } from '../../src/config/load.ts';
import { startGateway, type RunningGateway } from '../../src/gateway/gateway.ts';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { Usage } from '../../src/core/usage.ts';

/** A distinctive token per canary; each canary is built around them so that any part of it is caught. */
const token = (): string => `cnry${randomBytes(6).toString('hex')}`;
const T = { redis: token(), backend: token(), wrong: token(), nv: token(), path: token(), q1: token(), q2: token(), a1: token(), a2: token(), key: token() };
const CANARY = {
  backendKey: `sk-${T.backend}`,
  wrongKey: `sk-${T.wrong}`,
  nv: `nv-${T.nv}`,
  pathSecret: `p-${T.path}`,
  // A `"` and an `&amp;` in the middle: both used to leak in part or entity-decoded.
  quote: `${T.q1}"${T.q2}`,
  amp: `${T.a1}&amp;${T.a2}`,
  subscriptionKey: `tg-${T.key}`,
  redisPassword: `rp-${T.redis}`,
};
const TOKENS = Object.values(T);

/** Every token of every canary that `text` contains, also base64-encoded (as in a Basic credential). */
function canaryHits(text: string): string[] {
  // Case-insensitive: an upper-cased secret is still the secret.
  const lower = text.toLowerCase();
  const hits = TOKENS.filter((t) => lower.includes(t));
  for (const c of Object.values(CANARY)) {
    const b64 = Buffer.from(c).toString('base64').slice(0, 12);
    if (text.includes(b64)) hits.push(`base64(${c})`);
  }
  return hits;
}

let gw: RunningGateway;
let sim: RunningSimulator;
let notFound: Server;
const logs: string[] = [];
const usages: Usage[] = [];
const seen: string[] = [];

const when = (name: string, body: string): string => `<when condition='@(context.Request.Headers.GetValueOrDefault("x-case", "") == "${name}")'>${body}</when>`;
const POLICY = `<policies>
  <inbound>
    <base />
    <trace source="canary" severity="information"><message>@("token " + "{{nv}}")</message><metadata name="k" value="{{path-secret}}" /></trace>
    <trace source="canary" severity="verbose"><message>{{quote}} and {{amp}}</message></trace>
    <trace source="canary" severity="information"><message>@("{{nv}}".Substring(3))</message><metadata name="m" value='@("{{nv}}".ToUpper())' /></trace>
    <emit-metric name="canary_calls" namespace="canary" value="1"><dimension name="who" value='@("{{nv}}")' /></emit-metric>
    <choose>
      ${when('bad-backend', `<set-backend-service backend-id='@("b-" + "{{nv}}")' />`)}
      ${when('bad-backend-upper', `<set-backend-service backend-id='@("{{nv}}".ToUpper())' />`)}
      ${when('bad-metric', `<emit-metric name="canary_bad" namespace="canary" value='@("{{nv}}")' />`)}
      ${when('bad-metric-substring', `<emit-metric name="canary_bad" namespace="canary" value='@("{{nv}}".Substring(3))' />`)}
      ${when('parse', `<set-variable name="n" value='@(int.Parse("{{nv}}"))' />`)}
      ${when('parse-substring', `<set-variable name="n" value='@(bool.Parse("{{nv}}".Substring(3)))' />`)}
      ${when('wrong-key', '<set-backend-service backend-id="wrong-key" />')}
      ${when('not-found', '<set-backend-service backend-id="secret-path" />')}
      ${when('dead', '<set-backend-service backend-id="dead" />')}
      ${when('base-url-host', `<set-backend-service base-url='@("http://" + "{{nv}}".Substring(3) + ".localhost:1/")' />`)}
    </choose>
  </inbound>
  <backend><base /></backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>`;

before(async () => {
  sim = await startSimulator({ name: 'sim', requireKey: CANARY.backendKey, tokensPerSecond: 0 });
  notFound = createServer((req, res) => {
    seen.push(req.url ?? '');
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"no such deployment"}}');
  });
  notFound.listen(0, '127.0.0.1');
  await once(notFound, 'listening');
  const nfPort = (notFound.address() as { port: number }).port;
  const dead = createServer();
  dead.listen(0, '127.0.0.1');
  await once(dead, 'listening');
  const deadPort = (dead.address() as { port: number }).port;
  dead.close();

  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString('utf8'));
      cb();
    },
  });
  const loaded = loadConfigObject({
    gateway: { listen: '127.0.0.1:0' },
    admin: { listen: '127.0.0.1:0' },
    log: { level: 'debug' },
    namedValues: {
      'backend-key': { value: CANARY.backendKey, secret: true },
      'wrong-key': { value: CANARY.wrongKey, secret: true },
      nv: { value: CANARY.nv, secret: true },
      'path-secret': { value: CANARY.pathSecret, secret: true },
      quote: { value: CANARY.quote, secret: true },
      amp: { value: CANARY.amp, secret: true },
      'sub-key': { value: CANARY.subscriptionKey, secret: true },
      'redis-pass': { value: CANARY.redisPassword, secret: true },
    },
    // Redis is down (nothing listens): limits fail open, and the connection errors are logged.
    state: { store: 'redis', url: `redis://:{{redis-pass}}@127.0.0.1:${deadPort}/0`, failMode: 'open' },
    backends: {
      sim: { url: `${sim.url}/openai`, credentials: { header: { 'api-key': '{{backend-key}}' } } },
      'wrong-key': { url: `${sim.url}/openai`, credentials: { header: { 'api-key': '{{wrong-key}}' } } },
      'secret-path': { url: `http://127.0.0.1:${nfPort}/{{path-secret}}/x%20{{quote}}/openai`, credentials: { header: { authorization: 'Bearer {{backend-key}}' } } },
      dead: { url: `http://127.0.0.1:${deadPort}/{{path-secret}}/openai`, credentials: { header: { 'api-key': '{{backend-key}}' } } },
    },
    apis: { openai: { path: '', type: 'openai', backend: 'sim', policies: POLICY } },
    products: { starter: { apis: ['openai'] } },
    subscriptions: { 'team-a': { product: 'starter', keys: ['{{sub-key}}'] } },
  });
  gw = await startGateway(loaded, { logger: createLogger('debug', sink), defaultMetrics: false });
  gw.usageBus.subscribe((u) => usages.push(u));
});

after(async () => {
  await gw.close(1000);
  await sim.close();
  notFound.close();
});

async function call(testCase: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'api-key': CANARY.subscriptionKey, 'content-type': 'application/json', 'x-case': testCase },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
  });
  return { status: res.status, text: `${JSON.stringify([...res.headers])}\n${await res.text()}` };
}

test('no error path, log line, admin answer or usage record carries a canary secret in any form', async () => {
  const bodies: Array<{ testCase: string; status: number; text: string }> = [];
  for (const testCase of ['ok', 'bad-backend', 'bad-backend-upper', 'bad-metric', 'bad-metric-substring', 'parse', 'parse-substring', 'wrong-key', 'not-found', 'dead', 'base-url-host']) {
    bodies.push({ testCase, ...(await call(testCase)) });
  }
  const statusOf = (c: string): number | undefined => bodies.find((b) => b.testCase === c)?.status;
  // The paths really were taken (a canary test that reaches no error path proves nothing).
  assert.equal(statusOf('ok'), 200);
  assert.equal(statusOf('bad-backend'), 500);
  assert.equal(statusOf('bad-backend-upper'), 500);
  assert.equal(statusOf('bad-metric'), 500);
  assert.equal(statusOf('bad-metric-substring'), 500);
  assert.equal(statusOf('parse'), 500);
  assert.equal(statusOf('parse-substring'), 500);
  assert.equal(statusOf('wrong-key'), 401);
  assert.equal(statusOf('not-found'), 404);
  assert.equal(statusOf('dead'), 502);
  // A host computed from a secret (not a form of it) that does not resolve: neither the error nor
  // its logged cause names the host.
  // (502 unresolvable, or refused by an SSRF guard: either way an error that must not name it.)
  assert.ok((statusOf('base-url-host') ?? 0) >= 500);
  assert.ok(seen.some((u) => u.includes(T.path)), 'the 404 backend was reached through the secret path');
  assert.ok(logs.some((l) => l.includes('"traceSource":"canary"') && l.includes('"level":30')), 'the information trace was logged');
  assert.ok(logs.some((l) => /redis/i.test(l) && l.includes('"level":40')), 'the Redis outage was logged');
  assert.ok(logs.some((l) => l.includes('"traceSource":"canary"') && l.includes('"level":20')), 'the verbose trace was logged');

  const status = await (await fetch(`${gw.adminUrl}/status`)).text();
  assert.match(status, /"id": "secret-path"/);
  const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
  assert.match(metrics, /tollgate_custom_canary_canary_calls/);

  for (const b of bodies) assert.deepEqual(canaryHits(b.text), [], `response to ${b.testCase}: ${b.text}`);
  assert.deepEqual(canaryHits(status), [], `/status: ${status}`);
  assert.deepEqual(canaryHits(metrics), [], '/metrics');
  const logText = logs.join('');
  assert.deepEqual(canaryHits(logText), [], `logs:\n${logs.filter((l) => canaryHits(l).length > 0).join('')}`);
  assert.deepEqual(canaryHits(JSON.stringify(usages)), [], 'usage records');
});

test('a message about a value computed from a secret names the policy, not the value', async () => {
  const upper = await call('bad-backend-upper');
  assert.match(upper.text, /set-backend-service: backend-id evaluated to a backend that is not defined/);
  // The upper-cased secret is no encoding of it: only not quoting it keeps it out.
  assert.ok(!upper.text.includes(T.nv.toUpperCase()));
  const metric = await call('bad-metric-substring');
  assert.match(metric.text, /emit-metric: value did not evaluate to a non-negative number/);
  assert.ok(!logs.join('').includes(CANARY.nv.slice(3)));
});
