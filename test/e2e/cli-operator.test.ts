/**
 * The operator's first hour with the real `tollgate` command: help and exit codes, the executable
 * bin, a busy port, signals through the wrappers (bin/tollgate.js, npm start), log.level reload,
 * `policy set` editing only the policy line, and the simulator's fault switch behind --require-key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createServer, type Server } from 'node:net';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const BIN = join(ROOT, 'bin', 'tollgate.js');
const KEY = 'tg-operator-test-key-0123456789';

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function watch(child: ChildProcess): Running {
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

function run(args: string[], env: Record<string, string> = {}): Running {
  return watch(spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

async function waitForOutput(r: Running, re: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = re.exec(r.output());
    if (m) return m;
    if (Date.now() > deadline || r.child.exitCode !== null || r.child.signalCode !== null) {
      throw new Error(`no match for ${re} in output (exit ${r.child.exitCode}, signal ${r.child.signalCode}):\n${r.output()}`);
    }
    await new Promise((res) => setTimeout(res, 20));
  }
}

async function exitWithin(r: Running, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  const result = await Promise.race([r.exited, timeout]);
  clearTimeout(timer);
  if (result === 'timeout') {
    r.child.kill('SIGKILL');
    throw new Error(`still running after ${ms} ms; output:\n${r.output()}`);
  }
  return result;
}

async function occupy(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

async function freePort(): Promise<number> {
  const { server, port } = await occupy();
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function configText(sim: number, extra = ''): string {
  return `gateway: { listen: 127.0.0.1:0 }
admin: { listen: 127.0.0.1:0 }
${extra}namedValues:
  team-key: { value: ${KEY}, secret: true }
simulators:
  local: { port: ${sim} }
backends:
  local: { url: http://127.0.0.1:${sim}/openai }
apis:
  openai: { path: "", type: openai, backend: local }
products:
  starter: { apis: [openai] }
subscriptions:
  team-a: { product: starter, keys: ["{{team-key}}"] }
`;
}

async function chat(base: string): Promise<number> {
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
  });
  await res.arrayBuffer();
  return res.status;
}

test('bin/tollgate.js is executable (in git too) and runs as a command', () => {
  accessSync(BIN, constants.X_OK);
  const staged = spawnSync('git', ['ls-files', '-s', 'bin/tollgate.js'], { cwd: ROOT, encoding: 'utf8' });
  if (staged.status === 0 && staged.stdout !== '') assert.match(staged.stdout, /^100755 /, 'git records the file as executable');
  // Run the file itself (its shebang), with this Node first on PATH.
  const r = spawnSync(BIN, ['version'], { encoding: 'utf8', env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\d+\.\d+\.\d+/);
});

test('every command takes --help (exit 0); usage mistakes exit 2, runtime failures 1, as README says', () => {
  const cases: Array<[string[], number, RegExp]> = [
    [['start', '--help'], 0, /Usage:/],
    [['validate', '--help'], 0, /Usage:/],
    [['policy', 'set', '--help'], 0, /Usage:/],
    [['policy', '--help'], 0, /Usage:/],
    [['status', '-h'], 0, /Usage:/],
    [['simulate', '--help'], 0, /Usage: tollgate simulate/],
    [['help'], 0, /Usage:/],
    [['start', '--bogus'], 2, /Unknown option '--bogus'/],
    [['validate'], 2, /--config FILE is required/],
    [['status', '--admin'], 2, /argument missing/],
    [['simulate', '--port', 'abc'], 2, /--port must be an integer/],
    [['frobnicate'], 2, /unknown command/],
    [['validate', '--config', join(tmpdir(), 'tollgate-no-such-file.yaml')], 1, /no-such-file/],
    [['status', '--admin', 'http://127.0.0.1:9'], 1, /cannot read/],
  ];
  for (const [args, code, message] of cases) {
    const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
    assert.equal(r.status, code, `tollgate ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout + r.stderr, message, args.join(' '));
  }
});

test('a busy admin port: the error names the admin listener and its address, and the process exits 1', async () => {
  const busy = await occupy();
  try {
    const r = run(['start', '--listen', '127.0.0.1:0', '--admin-listen', `127.0.0.1:${busy.port}`]);
    assert.equal(await exitWithin(r, 20_000), 1);
    assert.match(r.output(), new RegExp(`admin listener 127\\.0\\.0\\.1:${busy.port}: address already in use`));
  } finally {
    busy.server.close();
  }
});

test('a busy gateway port with simulators in the config: named, exits 1, and the simulator it started is stopped', async () => {
  const busy = await occupy();
  const sim = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-busy-'));
  try {
    const file = join(dir, 'tollgate.yaml');
    writeFileSync(file, configText(sim).replace('gateway: { listen: 127.0.0.1:0 }', `gateway: { listen: 127.0.0.1:${busy.port} }`));
    const r = run(['start', '--config', file]);
    assert.equal(await exitWithin(r, 20_000), 1);
    assert.match(r.output(), new RegExp(`gateway listener 127\\.0\\.0\\.1:${busy.port}: address already in use`));
    // A busy simulator port is named the same way.
    writeFileSync(file.replace('tollgate.yaml', 'sim.yaml'), configText(busy.port));
    const r3 = run(['start', '--config', file.replace('tollgate.yaml', 'sim.yaml')]);
    assert.equal(await exitWithin(r3, 20_000), 1);
    assert.match(r3.output(), new RegExp(`simulator "local" listener 127\\.0\\.0\\.1:${busy.port}: address already in use`));
  } finally {
    busy.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('log.level is reloaded on SIGHUP: debug lines appear once the file says debug', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-loglevel-'));
  const file = join(dir, 'tollgate.yaml');
  writeFileSync(file, configText(await freePort(), 'log: { level: warn }\n'));
  const r = run(['start', '--config', file]);
  try {
    const base = (await waitForOutput(r, /gateway (http:\/\/127\.0\.0\.1:\d+), admin .*, pid (\d+)/))[1]!;
    assert.equal(await chat(base), 200);
    await new Promise((res) => setTimeout(res, 200));
    assert.doesNotMatch(r.output(), /"msg":"usage"/, 'no debug lines at warn');
    writeFileSync(file, configText(Number(/port: (\d+)/.exec(readFileSync(file, 'utf8'))![1]), 'log: { level: debug }\n'));
    r.child.kill('SIGHUP');
    await waitForOutput(r, /configuration reloaded/);
    assert.equal(await chat(base), 200);
    await waitForOutput(r, /"level":20,.*"msg":"usage"/);
  } finally {
    r.child.kill('SIGTERM');
    await exitWithin(r, 20_000);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A Node older than 24 on this machine (bin/tollgate.js re-runs itself on the Node 24 in node_modules). */
function olderNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    const r = spawnSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    if (r.status === 0 && Number(r.stdout.split('.')[0]) < 24) return candidate;
  }
  return undefined;
}
const OLD_NODE = olderNode();

test('bin/tollgate.js on an older Node forwards SIGHUP (reload) and SIGTERM (drain) to the gateway it runs', { skip: OLD_NODE === undefined ? 'no Node older than 24 on this machine' : false }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-wrapper-'));
  const file = join(dir, 'tollgate.yaml');
  writeFileSync(file, configText(await freePort()));
  const r = watch(spawn(OLD_NODE!, [BIN, 'start', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] }));
  try {
    const [, base, pid] = await waitForOutput(r, /gateway (http:\/\/127\.0\.0\.1:\d+), admin .*, pid (\d+)/);
    assert.notEqual(Number(pid), r.child.pid, 'the wrapper runs the gateway as its child');
    r.child.kill('SIGHUP');
    await waitForOutput(r, /configuration reloaded/);
    assert.equal(r.child.exitCode, null, 'the wrapper survives SIGHUP');
    assert.equal(await chat(base!), 200, 'the gateway still serves');
    r.child.kill('SIGTERM');
    assert.equal(await exitWithin(r, 20_000), 0);
    assert.match(r.output(), /SIGTERM received, draining/);
    assert.throws(() => process.kill(Number(pid), 0), 'the gateway exited with its wrapper');
  } finally {
    r.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('npm start: the gateway is npm\'s direct child, reloads on SIGHUP to its printed pid, and stops (not orphaned) when npm is killed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-npm-'));
  const file = join(dir, 'tollgate.yaml');
  writeFileSync(file, configText(await freePort()));
  const npm = watch(spawn('npm', ['start', '--silent', '--', '--config', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
  let gatewayPid = 0;
  try {
    const [, base, pid] = await waitForOutput(npm, /gateway (http:\/\/127\.0\.0\.1:\d+), admin .*, pid (\d+)/, 60_000);
    gatewayPid = Number(pid);
    const ppid = readFileSync(`/proc/${gatewayPid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1];
    assert.equal(Number(ppid), npm.child.pid, 'npm → exec bash → exec node: no shell in between');
    process.kill(gatewayPid, 'SIGHUP');
    await waitForOutput(npm, /configuration reloaded/);
    assert.equal(await chat(base!), 200);
    // npm passes on only SIGINT/SIGTERM; SIGHUP kills it. The gateway must not live on orphaned.
    npm.child.kill('SIGHUP');
    const deadline = Date.now() + 20_000;
    while (isAlive(gatewayPid)) {
      assert.ok(Date.now() < deadline, 'the gateway is still running after npm died');
      await new Promise((res) => setTimeout(res, 50));
    }
  } finally {
    if (gatewayPid !== 0 && isAlive(gatewayPid)) process.kill(gatewayPid, 'SIGKILL');
    npm.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('policy set changes only the policy line: comments, quoting, spacing and flow maps stay as written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-policy-layout-'));
  try {
    const config = join(dir, 'tollgate.yaml');
    const before = `# team gateway
gateway:   { listen: "127.0.0.1:8080" }    # spaced on purpose

backends:
  openai-backend: { url: 'http://127.0.0.1:9/openai' }
apis:
  azure-openai:
    path: openai          # the AOAI api
    backend: openai-backend
    policies: old.xml
  other: { path: other, backend: openai-backend }
products:
  starter: { apis: [azure-openai, other] }   # one product
`;
    writeFileSync(config, before);
    writeFileSync(join(dir, 'old.xml'), '<policies><inbound><base /></inbound></policies>');
    writeFileSync(join(dir, 'good.xml'), '<policies><inbound><base /><set-header name="x-a" exists-action="override"><value>1</value></set-header></inbound></policies>');
    const set = (scope: string): void => {
      const r = spawnSync(process.execPath, [MAIN, 'policy', 'set', '--config', config, '--scope', scope, '--file', join(dir, 'good.xml')], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    };
    set('api:azure-openai');
    assert.equal(readFileSync(config, 'utf8'), before.replace('policies: old.xml', 'policies: good.xml'));
    set('api:other');
    set('global');
    const after = readFileSync(config, 'utf8');
    assert.equal(
      after,
      before
        .replace('policies: old.xml', 'policies: good.xml')
        .replace('{ path: other, backend: openai-backend }', '{ path: other, backend: openai-backend, policies: good.xml }') + 'policies: good.xml\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('simulate --require-key: the fault switch (PUT /_sim/fault) needs the key too', async () => {
  const port = await freePort();
  const r = run(['simulate', '--port', String(port), '--require-key', 'sim-key-1']);
  try {
    await waitForOutput(r, /listening on/);
    const put = (headers: Record<string, string>): Promise<Response> => fetch(`http://127.0.0.1:${port}/_sim/fault`, { method: 'PUT', headers, body: '{"fail":"429"}' });
    const refused = await put({});
    assert.equal(refused.status, 401);
    await refused.arrayBuffer();
    const wrong = await put({ 'api-key': 'nope' });
    assert.equal(wrong.status, 401);
    await wrong.arrayBuffer();
    const ok = await put({ 'api-key': 'sim-key-1' });
    assert.equal(ok.status, 200);
    await ok.arrayBuffer();
  } finally {
    r.child.kill('SIGINT');
  }
  assert.equal(await exitWithin(r, 20_000), 0);
});

test('the demo survives SIGHUP (it has no file to reload) and still stops cleanly on SIGINT', async () => {
  const r = run(['start', '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0']);
  try {
    const pid = Number((await waitForOutput(r, /Process id\s+(\d+)/))[1]);
    assert.equal(pid, r.child.pid);
    await waitForOutput(r, /Ctrl-C stops the gateway/);
    r.child.kill('SIGHUP');
    // Sent as soon as the banner is read: the handlers must be in place before it is printed.
    await waitForOutput(r, /SIGHUP ignored: the demo has no config file/);
    assert.equal(r.child.exitCode, null);
  } finally {
    r.child.kill('SIGINT');
  }
  assert.equal(await exitWithin(r, 20_000), 0);
});
