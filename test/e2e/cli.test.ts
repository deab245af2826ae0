/**
 * The `tollgate` command as a user runs it: the demo with no config, `start --config`, and `simulate`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { freePort } from '../helpers/redis.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

interface Running {
  child: ChildProcess;
  stdout: () => string;
  exited: Promise<number | null>;
}

function run(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, exited };
}

async function waitForOutput(r: Running, re: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = re.exec(r.stdout());
    if (m) return m;
    if (Date.now() > deadline || r.child.exitCode !== null) throw new Error(`no match for ${re} in output:\n${r.stdout()}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}


test('with no config, start runs the demo: prints URLs, the key and a curl line; Ctrl-C stops it cleanly', async () => {
  const key = 'tg-demo-key-from-env-123456';
  // The demo's ledger goes to a temporary file here (by default .tollgate/demo-ledger.sqlite).
  const ledgerDir = mkdtempSync(join(tmpdir(), 'tollgate-demo-ledger-'));
  const ledgerEnv = { TOLLGATE_DEMO_LEDGER: join(ledgerDir, 'demo.sqlite') };
  const r = run(['start', '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'], { TOLLGATE_DEMO_KEY: key, ...ledgerEnv });
  try {
    const m = await waitForOutput(r, /OpenAI base URL\s+(http:\/\/127\.0\.0\.1:\d+)\/v1/);
    await waitForOutput(r, /Ctrl-C stops the gateway/);
    assert.match(r.stdout(), new RegExp(`Subscription key\\s+${key}`));
    assert.match(r.stdout(), /curl http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions -H "Authorization: Bearer /);
    assert.equal((r.stdout().match(/built-in simulator|openai-p(tu|ayg)-/g) ?? []).length >= 3, true, 'three simulated backends');
    const base = m[1]!;
    const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: key, maxRetries: 0 });
    const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello demo' }], max_tokens: 4 });
    assert.equal(res.usage?.completion_tokens, 4);

    // The printed failover walk-through works: the PTU's 429 is failed over, and status shows its open circuit.
    const put = /curl -X PUT (\S+) -d '(.+)'/.exec(r.stdout());
    assert.ok(put, 'the banner shows how to set a fault');
    assert.equal((await fetch(put[1]!, { method: 'PUT', body: put[2]! })).status, 200);
    const raw = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'failover' }], max_tokens: 4 }).withResponse();
    assert.match(raw.response.headers.get('x-sim-name') ?? '', /^openai-payg-/);
    const adminUrl = /tollgate status --admin (\S+)/.exec(r.stdout())?.[1];
    assert.ok(adminUrl);
    const status = spawnSync(process.execPath, [MAIN, 'status', '--admin', adminUrl], { encoding: 'utf8' });
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /^openai-ptu-eastus\s+open\s+\d+ s/m);
  } finally {
    r.child.kill('SIGINT');
  }
  assert.equal(await r.exited, 0);
  // The demo recorded both requests in its ledger; `tollgate usage` without --config reads it.
  try {
    assert.match(r.stdout(), /Usage ledger\s+\S+demo\.sqlite/);
    const usage = spawnSync(process.execPath, [MAIN, 'usage'], { encoding: 'utf8', env: { ...process.env, ...ledgerEnv } });
    assert.equal(usage.status, 0, usage.stderr);
    assert.match(usage.stdout, /^demo\s+2\s+/m);
  } finally {
    rmSync(ledgerDir, { recursive: true, force: true });
  }
});

test('start --config runs the gateway from a file, including simulators declared in it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-cli-'));
  const [gw, admin, sim] = [await freePort(), await freePort(), await freePort()];
  const file = join(dir, 'tollgate.yaml');
  writeFileSync(
    file,
    `gateway: { listen: 127.0.0.1:${gw} }
admin: { listen: 127.0.0.1:${admin} }
namedValues:
  team-key: { env: CLI_TEST_KEY, secret: true }
simulators:
  local: { port: ${sim} }
backends:
  local: { url: http://127.0.0.1:${sim}/openai }
apis:
  azure-openai: { path: openai, type: openai, backend: local }
products:
  starter: { apis: [azure-openai] }
subscriptions:
  team-a: { product: starter, keys: ["{{team-key}}"] }
`,
  );
  const r = run(['start', '--config', file], { CLI_TEST_KEY: 'tg-cli-test-key-abcdef' });
  try {
    await waitForOutput(r, /gateway http:\/\/127\.0\.0\.1:\d+, admin/);
    const res = await fetch(`http://127.0.0.1:${gw}/openai/deployments/anything/chat/completions?api-version=2024-10-21`, {
      method: 'POST',
      headers: { 'api-key': 'tg-cli-test-key-abcdef', 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
    });
    assert.equal(res.status, 200, 'without declared deployments any name is forwarded');
    assert.equal(((await res.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens, 2);
    assert.ok(!r.stdout().includes('tg-cli-test-key-abcdef'), 'the key is not printed in config mode');
  } finally {
    r.child.kill('SIGTERM');
    await r.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('simulate runs the simulator alone and stops on SIGINT', async () => {
  const port = await freePort();
  const r = run(['simulate', '--port', String(port), '--tpm', '1000']);
  try {
    await waitForOutput(r, new RegExp(`127\\.0\\.0\\.1:${port}`));
    const res = await fetch(`http://127.0.0.1:${port}/v1/models`);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  } finally {
    r.child.kill('SIGINT');
  }
  assert.equal(await r.exited, 0);
});

test('policy set points a scope at a policy file, keeps the YAML\'s comments, and refuses a policy that does not load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-policy-set-'));
  try {
    const config = join(dir, 'tollgate.yaml');
    writeFileSync(
      config,
      `# team gateway
backends:
  openai-backend: { url: "http://127.0.0.1:9/openai" }
apis:
  azure-openai: { path: openai, backend: openai-backend }  # the AOAI api
products:
  starter: { apis: [azure-openai] }
`,
    );
    writeFileSync(join(dir, 'good.xml'), '<inbound>\n    <base />\n    <set-backend-service backend-id="openai-backend" />\n    <authentication-managed-identity resource="https://cognitiveservices.azure.com" />\n</inbound>\n');
    writeFileSync(join(dir, 'bad.xml'), '<policies><inbound><set-backend-service backend-id="missing" /></inbound></policies>');
    const set = (file: string): ReturnType<typeof spawnSync> =>
      spawnSync(process.execPath, [MAIN, 'policy', 'set', '--config', config, '--scope', 'api:azure-openai', '--file', join(dir, file)], { encoding: 'utf8' });
    const bad = set('bad.xml');
    assert.equal(bad.status, 1);
    assert.match(String(bad.stderr), /bad\.xml:1:\d+: .*backend "missing"/);
    assert.ok(!readFileSync(config, 'utf8').includes('bad.xml'), 'config unchanged');
    const good = set('good.xml');
    assert.equal(good.status, 0, String(good.stderr));
    const text = readFileSync(config, 'utf8');
    assert.match(text, /policies: good\.xml/);
    assert.match(text, /# team gateway/);
    assert.match(text, /# the AOAI api/);
    const validate = spawnSync(process.execPath, [MAIN, 'validate', '--config', config], { encoding: 'utf8' });
    assert.equal(validate.status, 0, String(validate.stderr));
    assert.match(String(validate.stdout), /notice: .*authentication-managed-identity/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
