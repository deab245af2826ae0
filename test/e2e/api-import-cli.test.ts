/**
 * `tollgate api import` and `tollgate mcp manifest` as an operator runs them: the config keeps its
 * comments and layout, a URL is fetched through the outbound SSRF guard (loopback refused unless
 * the config allows it), and a result that does not load is never written.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile } from '../../src/config/load.ts';
import { PETSTORE, startRestBackend, type RestBackend } from '../helpers/mcp.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

function tollgate(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

const CONFIG = `# team gateway: comments and layout must survive an import
gateway:   { listen: "127.0.0.1:8080" }    # spaced on purpose

backends:
  sim: { url: 'http://127.0.0.1:9/openai' }   # the usual one
apis:
  chat:
    path: openai          # the AOAI api
    backend: sim
products:
  starter: { apis: [chat] }   # one product
`;

let dir: string;
let specServer: RestBackend;
const specText = readFileSync(PETSTORE, 'utf8');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tollgate-import-'));
  specServer = await startRestBackend((r, res) => {
    if (r.url === '/openapi.yaml') {
      res.writeHead(200, { 'content-type': 'application/yaml' });
      res.end(specText);
      return;
    }
    res.writeHead(404).end();
  });
});
after(async () => {
  await specServer.close();
  rmSync(dir, { recursive: true, force: true });
});

test('api import from a file adds the API, keeps every comment and line, and the config loads', async () => {
  const config = join(dir, 'file.yaml');
  writeFileSync(config, CONFIG);
  const r = await tollgate(['api', 'import', '--config', config, '--api-id', 'petstore', '--path', 'petstore', '--specification', PETSTORE]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /19 operations/);
  const after = readFileSync(config, 'utf8');
  // Every original line is still there, unchanged and in order.
  let at = 0;
  for (const line of CONFIG.split('\n').filter((l) => l !== '')) {
    const found = after.indexOf(line, at);
    assert.ok(found >= at, `line kept: ${line}`);
    at = found + line.length;
  }
  const loaded = loadConfigFile(config);
  const api = loaded.config.apis['petstore'];
  assert.equal(api?.type, 'http');
  assert.equal(api?.path, 'petstore');
  assert.equal(api?.backend, 'petstore');
  // The spec's own server URL becomes the backend.
  assert.equal(loaded.config.backends['petstore']?.url, 'https://petstore3.swagger.io/api/v3');
  assert.equal(loaded.specs.get('petstore')?.operations.length, 19);
});

test('api import from a loopback URL is refused by the SSRF guard unless the config allows private networks', async () => {
  const config = join(dir, 'url.yaml');
  writeFileSync(config, CONFIG);
  const url = `${specServer.url}/openapi.yaml`;
  const args = ['api', 'import', '--config', config, '--api-id', 'pets', '--path', 'pets', '--specification', url, '--service-url', 'http://127.0.0.1:9/v3'];
  const refused = await tollgate(args);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /internal.*allowPrivateNetworks/);
  assert.equal(readFileSync(config, 'utf8'), CONFIG);
  assert.equal(existsSync(join(dir, 'pets.openapi.yaml')), false);
  assert.equal(specServer.received.length, 0, 'the guard refused before connecting');

  const allowing = `${CONFIG}outbound: { allowPrivateNetworks: true }\n`;
  writeFileSync(config, allowing);
  const ok = await tollgate(args);
  assert.equal(ok.code, 0, ok.err);
  assert.equal(specServer.received.length, 1);
  // The fetched spec is kept beside the config, byte for byte, and the config points at it.
  assert.equal(readFileSync(join(dir, 'pets.openapi.yaml'), 'utf8'), specText);
  const loaded = loadConfigFile(config);
  assert.equal(loaded.config.apis['pets']?.openapi, 'pets.openapi.yaml');
  assert.equal(loaded.config.backends['pets']?.url, 'http://127.0.0.1:9/v3');
});

test('api import refuses a specification that is not OpenAPI, and a URL that fails, leaving the config as it was', async () => {
  const config = join(dir, 'bad.yaml');
  writeFileSync(config, CONFIG);
  const junk = join(dir, 'junk.yaml');
  writeFileSync(junk, 'hello: world\n');
  const r = await tollgate(['api', 'import', '--config', config, '--api-id', 'x', '--path', 'x', '--specification', junk, '--service-url', 'http://127.0.0.1:9']);
  assert.equal(r.code, 1);
  assert.match(r.err, /not an OpenAPI/);
  const missing = await tollgate(['api', 'import', '--config', `${config}`, '--api-id', 'x', '--path', 'x', '--specification', `${specServer.url}/nothing.yaml`]);
  assert.equal(missing.code, 1);
  assert.equal(readFileSync(config, 'utf8'), CONFIG);
  // A path already used by another API: the result would not load, so nothing is written.
  const clash = await tollgate(['api', 'import', '--config', config, '--api-id', 'x', '--path', 'openai', '--specification', PETSTORE]);
  assert.equal(clash.code, 1);
  assert.match(clash.err, /already used by api "chat"/);
  assert.equal(readFileSync(config, 'utf8'), CONFIG);
});

test('mcp manifest prints the client configuration for VS Code, Claude Code, Claude Desktop and Cursor, never the key', async () => {
  const config = join(dir, 'manifest.yaml');
  writeFileSync(config, `gateway: { listen: 0.0.0.0:8080 }\nbackends: { pets: { url: 'http://127.0.0.1:9' } }\napis:\n  pets: { path: tools/pets, type: http, backend: pets, openapi: ${PETSTORE}, mcp: { enabled: true, tools: [getPetById] } }\nsubscriptions: {}\n`);
  const all = await tollgate(['mcp', 'manifest', '--api', 'pets', '--config', config]);
  assert.equal(all.code, 0, all.err);
  const m = JSON.parse(all.out) as { url: string; transport: string; tools: string[]; clients: Record<string, { file: string; config: unknown }> };
  assert.equal(m.url, 'http://127.0.0.1:8080/tools/pets/mcp');
  assert.equal(m.transport, 'streamable-http');
  assert.deepEqual(m.tools, ['getPetById']);
  assert.deepEqual(Object.keys(m.clients).sort(), ['claude-code', 'claude-desktop', 'cursor', 'vscode']);
  const cursor = await tollgate(['mcp', 'manifest', '--api', 'pets', '--config', config, '--client', 'cursor', '--base-url', 'https://gw.example.com']);
  assert.deepEqual(JSON.parse(cursor.out), {
    mcpServers: { pets: { url: 'https://gw.example.com/tools/pets/mcp', headers: { 'api-key': '${env:TOLLGATE_KEY}', 'X-Agent-Id': 'pets-agent' } } },
  });
  const vscode = JSON.parse((await tollgate(['mcp', 'manifest', '--api', 'pets', '--config', config, '--client', 'vscode'])).out) as { servers: Record<string, { type: string }> };
  assert.equal(vscode.servers['pets']?.type, 'http');
  const bad = await tollgate(['mcp', 'manifest', '--api', 'nope', '--config', config]);
  assert.equal(bad.code, 1);
  const usage = await tollgate(['mcp', 'manifest', '--api', 'pets', '--config', config, '--client', 'emacs']);
  assert.equal(usage.code, 2);
});
