/**
 * Identity measurements (docs/identity.md): the import cost of `@azure/identity`, token fetches
 * and refresh timing under concurrent load through a real gateway in front of a simulator that
 * requires Entra tokens, and what `validate-jwt` adds per request.
 *
 *   node bench/identity.ts [--seconds 8] [--concurrency 32]
 *
 * Loopback only. The numbers are for the report, never asserted.
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { loadConfigObject } from '../src/config/load.ts';
import { startGateway } from '../src/gateway/gateway.ts';
import { createLogger } from '../src/observability/logger.ts';
import { startSimulator } from '../src/simulator/index.ts';
import { DEFAULT_TENANT_ID } from '../src/simulator/identity.ts';
import { verifyJwt } from '../src/policies/validate-jwt/check.ts';
import { OpenIdKeys } from '../src/identity/openid-keys.ts';
import { Agent } from 'undici';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '8' }, concurrency: { type: 'string', default: '32' } } });
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);
const KEY = 'bench-key-0123456789';

function importCost(mod: string): { ms: number; rssMb: number } {
  const code = `const r0=process.memoryUsage().rss;const t=performance.now();await import(${JSON.stringify(mod)});console.log(JSON.stringify({ms:performance.now()-t,rssMb:(process.memoryUsage().rss-r0)/1048576}))`;
  const runs = Array.from({ length: 3 }, () => JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' })) as { ms: number; rssMb: number });
  runs.sort((a, b) => a.ms - b.ms);
  return runs[1] as { ms: number; rssMb: number };
}

async function load(url: string, headers: () => Record<string, string>, seconds: number): Promise<{ n: number; errors: number; p50: number; p99: number }> {
  const end = Date.now() + seconds * 1000;
  const lat: number[] = [];
  let errors = 0;
  const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) {
        const t = performance.now();
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers() }, body });
        await res.arrayBuffer();
        lat.push(performance.now() - t);
        if (res.status !== 200) errors++;
      }
    }),
  );
  lat.sort((a, b) => a - b);
  return { n: lat.length, errors, p50: lat[Math.floor(lat.length / 2)] ?? 0, p99: lat[Math.floor(lat.length * 0.99)] ?? 0 };
}

async function gatewayWith(sim: { url: string }, backendCredentials: unknown, policies?: string): Promise<Awaited<ReturnType<typeof startGateway>>> {
  const loaded = loadConfigObject({
    gateway: { listen: '127.0.0.1:0' },
    admin: { enabled: false },
    log: { level: 'warn' },
    namedValues: { 'sim-url': { value: sim.url } },
    backends: { sim: { url: `${sim.url}/openai`, credentials: backendCredentials } },
    apis: { openai: { path: '', type: 'openai', backend: 'sim', ...(policies !== undefined && { policies }) } },
    products: { p: { apis: ['openai'] } },
    subscriptions: { s: { product: 'p', keys: [KEY] } },
  });
  return startGateway(loaded, { logger: createLogger('warn'), defaultMetrics: false });
}

console.log('# identity benchmark');
const azure = importCost('@azure/identity');
const jose = importCost('jose');
console.log(`import @azure/identity: ${azure.ms.toFixed(0)} ms, +${azure.rssMb.toFixed(1)} MB RSS; jose: ${jose.ms.toFixed(0)} ms, +${jose.rssMb.toFixed(1)} MB RSS (median of 3 fresh processes)`);

// 1. Managed identity under load: 4 s tokens, so refreshes happen during the run.
const idp = await startSimulator({ name: 'identity', requireEntra: true, tokensPerSecond: 0, tokenLifetimeSeconds: 4 });
process.env['IDENTITY_ENDPOINT'] = idp.identity.identityEndpoint;
process.env['IDENTITY_HEADER'] = idp.identity.identityHeader;
const fetchTimes: number[] = [];
const counted = idp.identity.counts;
let seen = 0;
const watch = setInterval(() => {
  while (seen < counted.managedIdentity) {
    seen++;
    fetchTimes.push(Date.now());
  }
}, 5);
const gw = await gatewayWith(idp, { managedIdentity: { resource: 'https://cognitiveservices.azure.com' } });
const started = Date.now();
const mi = await load(`${gw.url}/v1/chat/completions`, () => ({ 'api-key': KEY }), SECONDS);
clearInterval(watch);
const gaps = fetchTimes.slice(1).map((t, i) => t - (fetchTimes[i] as number));
console.log(
  `managed identity, ${CONCURRENCY} concurrent, ${SECONDS} s, 4 s tokens: ${mi.n} requests (${mi.errors} not 200), ` +
    `${counted.managedIdentity} token fetches (expected ~${Math.ceil((SECONDS * 1000) / 2000)} at one per 2 s refresh), ` +
    `first fetch at +${(fetchTimes[0] ?? started) - started} ms, gaps between fetches ${gaps.map((g) => `${g}`).join('/')} ms; p50 ${mi.p50.toFixed(2)} ms, p99 ${mi.p99.toFixed(2)} ms`,
);
await gw.close(100);

// 2. validate-jwt per request: the same load with and without the policy.
const AUD = 'api://bench';
const token = idp.identity.mint({ audience: AUD, expiresInSeconds: 3600 });
const policy = `<policies><inbound><base /><validate-jwt header-name="Authorization" require-scheme="Bearer">
  <openid-config url="{{sim-url}}/${DEFAULT_TENANT_ID}/v2.0/.well-known/openid-configuration" />
  <audiences><audience>${AUD}</audience></audiences></validate-jwt></inbound></policies>`;
const plain = await gatewayWith(idp, { managedIdentity: { resource: 'https://cognitiveservices.azure.com' } });
const checked = await gatewayWith(idp, { managedIdentity: { resource: 'https://cognitiveservices.azure.com' } }, policy);
const headers = (): Record<string, string> => ({ 'api-key': KEY, authorization: `Bearer ${token}` });
// Warm-up: each gateway's first token fetch, and the JWKS fetch.
await load(`${plain.url}/v1/chat/completions`, headers, 1);
await load(`${checked.url}/v1/chat/completions`, headers, 1);
const without = await load(`${plain.url}/v1/chat/completions`, headers, SECONDS / 2);
const withJwt = await load(`${checked.url}/v1/chat/completions`, headers, SECONDS / 2);
console.log(
  `validate-jwt end to end: without ${(without.n / (SECONDS / 2)).toFixed(0)} req/s p50 ${without.p50.toFixed(2)} ms; with ${(withJwt.n / (SECONDS / 2)).toFixed(0)} req/s p50 ${withJwt.p50.toFixed(2)} ms (${withJwt.errors} not 200); ` +
    `JWKS fetches ${idp.identity.counts.jwks}`,
);
await plain.close(100);
await checked.close(100);

// 3. The check alone, in process: RS256 verify with cached keys.
const dispatcher = new Agent();
const keys = new OpenIdKeys({ dispatcher, clock: Date.now });
const issuer = keys.for(`${idp.url}/${DEFAULT_TENANT_ID}/v2.0/.well-known/openid-configuration`);
const rules = { openId: [issuer], staticKeys: null, issuers: [], audiences: [AUD], requiredClaims: [], requireExpirationTime: true, requireSignedTokens: true, clockSkewSeconds: 0 };
await verifyJwt(token, rules, { status: 401, message: undefined }, Date.now());
const N = 5000;
const t0 = performance.now();
for (let i = 0; i < N; i++) await verifyJwt(token, rules, { status: 401, message: undefined }, Date.now());
console.log(`verifyJwt (RS256, 2048-bit, cached JWKS): ${(((performance.now() - t0) * 1000) / N).toFixed(1)} µs per token (${N} runs, one core)`);
await dispatcher.close();
await idp.close();
