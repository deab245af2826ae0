/**
 * Hostile policy expressions cost their request a bounded failure, never the process: the gateway
 * runs as a child process with a 384 MB heap, each expression of the hostile corpus (library calls
 * that do or allocate far more than their step count suggests) is sent while an ordinary request
 * runs beside it; every hostile request is answered with GW_ERR_POLICY_EXPRESSION (on-error ran),
 * the ordinary ones are served, and the gateway is alive and serving afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOSTILE } from '../../src/expressions/hostile-corpus.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { freePort } from '../helpers/redis.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const KEY = 'tg-expr-limits-key-0123456789';


const xmlAttr = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The hostile expression in inbound; on-error says what it saw, so the test can tell on-error ran. */
const policy = (src: string): string => `<policies>
  <inbound><base /><set-variable name="r" value="${xmlAttr(src)}" /></inbound>
  <backend><base /></backend>
  <outbound><base /></outbound>
  <on-error><base /><set-header name="x-last-error" exists-action="override"><value>@(context.LastError.Reason)</value></set-header></on-error>
</policies>`;

test('a corpus of hostile expressions fails each request quickly while the gateway (384 MB heap) keeps serving', { timeout: 600_000 }, async () => {
  const sim = await startSimulator({ name: 'sim', tokensPerSecond: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-expr-limits-'));
  const [port, adminPort] = [await freePort(), await freePort()];
  const apis = ['  ok: { path: "", type: openai, backend: sim }'];
  HOSTILE.forEach((h, i) => {
    writeFileSync(join(dir, `h${i}.xml`), policy(h.src));
    apis.push(`  h${i}: { path: "h${i}", type: openai, backend: sim, policies: h${i}.xml }`);
  });
  writeFileSync(
    join(dir, 'tollgate.yaml'),
    `gateway: { listen: "127.0.0.1:${port}" }
admin: { listen: "127.0.0.1:${adminPort}" }
log: { level: warn }
backends:
  sim: { url: "${sim.url}/openai" }
apis:
${apis.join('\n')}
products:
  p: { apis: [${['ok', ...HOSTILE.map((_, i) => `h${i}`)].join(', ')}] }
subscriptions:
  s: { product: p, keys: ["${KEY}"] }
`,
  );
  const child = spawn(process.execPath, ['--max-old-space-size=384', MAIN, 'start', '--config', join(dir, 'tollgate.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  const chat = (path: string): Promise<Response> =>
    fetch(base + path, {
      method: 'POST',
      headers: { 'api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }], max_tokens: 2 }),
      signal: AbortSignal.timeout(60_000),
    });
  try {
    for (let ready = false; !ready; ) {
      assert.equal(child.exitCode, null, `the gateway exited at start:\n${out}`);
      ready = await fetch(`http://127.0.0.1:${adminPort}/ready`).then((r) => r.ok, () => false);
      if (!ready) await new Promise((r) => setTimeout(r, 50));
    }
    for (const [i, h] of HOSTILE.entries()) {
      const t0 = performance.now();
      const [hostile, ordinary] = await Promise.all([chat(`/h${i}/v1/chat/completions`), chat('/v1/chat/completions')]);
      const ms = performance.now() - t0;
      const body = (await hostile.json()) as { error: { code: string; request_id: string } };
      assert.equal(hostile.status, 500, `${h.name}: ${JSON.stringify(body)}`);
      assert.equal(body.error.code, 'GW_ERR_POLICY_EXPRESSION', h.name);
      assert.equal(hostile.headers.get('x-last-error'), 'GW_ERR_POLICY_EXPRESSION', `${h.name}: on-error ran`);
      assert.equal(ordinary.status, 200, `${h.name}: the ordinary request beside it is served`);
      await ordinary.arrayBuffer();
      // Generous (a shared machine): before the budget covered library calls, these took minutes or killed the process.
      assert.ok(ms < 20_000, `${h.name} took ${ms.toFixed(0)} ms`);
      assert.equal(child.exitCode, null, `the gateway died on ${h.name}:\n${out.slice(-2000)}`);
    }
    const after = await chat('/v1/chat/completions');
    assert.equal(after.status, 200);
    await after.arrayBuffer();
    assert.equal(child.exitCode, null);
    assert.doesNotMatch(out, /heap out of memory/i);
    // Each failure is logged once, naming the sandbox limit (not the request data).
    const failures = out.split('\n').filter((l) => l.includes('GW_ERR_POLICY_EXPRESSION'));
    assert.equal(failures.length, HOSTILE.length, failures.join('\n'));
    for (const l of failures) assert.match(l, /step budget|string longer than|collection of more than|byte array longer than|produced more data/);
  } finally {
    child.kill('SIGTERM');
    await exited;
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
