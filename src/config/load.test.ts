import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, formatIssue, loadConfigFile, loadConfigText, type ConfigIssue } from './load.ts';

const ENV = { AOAI_KEY: 'aoai-secret-123', TEAM_A_KEY: 'team-a-key-0001' };
const REPO_ROOT = resolve(import.meta.dirname, '../..');

// The issue's example configuration; line numbers in the tests below refer to this text.
const VALID = `gateway: { listen: 127.0.0.1:8080 }
admin:   { listen: 127.0.0.1:8081 }
namedValues:
  aoai-key:   { env: AOAI_KEY, secret: true }
  team-a-key: { env: TEAM_A_KEY, secret: true }
backends:
  aoai-eastus:
    url: https://aoai-eastus.openai.azure.com/openai
    credentials: { header: { api-key: "{{aoai-key}}" } }
    timeouts: { connectMs: 5000, responseHeadersMs: 120000, idleStreamMs: 60000 }
apis:
  azure-openai:
    path: openai
    type: openai
    backend: aoai-eastus
    deployments: [gpt-4o, gpt-4o-mini, text-embedding-3-small]
products:
  starter: { apis: [azure-openai] }
subscriptions:
  team-a: { product: starter, keys: ["{{team-a-key}}"] }
`;

/** Replaces exactly one occurrence, so a typo in a test cannot silently leave the config unchanged. */
function edit(text: string, from: string, to: string): string {
  assert.equal(text.split(from).length, 2, `expected exactly one "${from}"`);
  return text.replace(from, to);
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  assert.fail('expected a ConfigError');
}

function loadError(text: string, env: NodeJS.ProcessEnv = ENV): ConfigError {
  return configError(() => loadConfigText(text, 'tollgate.yaml', env));
}

function brief(issues: readonly ConfigIssue[]): string[] {
  return issues.map((i) => `${i.line}:${i.col} ${i.path} | ${i.message}`);
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

void test('the example config loads, with named values substituted and defaults filled in', () => {
  const loaded = loadConfigText(VALID, 'tollgate.yaml', ENV);
  const c = loaded.config;
  assert.equal(loaded.file, 'tollgate.yaml');
  assert.deepEqual(c.gateway, {
    listen: '127.0.0.1:8080',
    maxBodyBytes: 4 * 1024 * 1024,
    maxResponseBytes: 32 * 1024 * 1024,
    shutdownGraceMs: 30_000,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 60_000,
    trustedProxies: [],
    maxStreamDurationMs: 1_800_000,
  });
  assert.deepEqual(c.admin, { listen: '127.0.0.1:8081', enabled: true, keys: [] });
  assert.deepEqual(c.log, { level: 'info' });
  assert.deepEqual(c.backends, {
    'aoai-eastus': {
      type: 'Single',
      url: 'https://aoai-eastus.openai.azure.com/openai',
      credentials: { header: { 'api-key': 'aoai-secret-123' } },
      timeouts: { connectMs: 5000, responseHeadersMs: 120_000, idleStreamMs: 60_000 },
      maxConnections: 256,
      maxPendingRequests: 1024,
    },
  });
  assert.deepEqual(c.apis, {
    'azure-openai': {
      path: 'openai',
      type: 'openai',
      backend: 'aoai-eastus',
      deployments: ['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small'],
      subscriptionRequired: true,
      allowTrace: false,
      operations: {},
    },
  });
  assert.deepEqual(c.products, { starter: { apis: ['azure-openai'] } });
  assert.deepEqual(c.subscriptions, { 'team-a': { product: 'starter', keys: ['team-a-key-0001'], state: 'active' } });
  assert.deepEqual(c.simulators, {});
  assert.equal(loaded.secrets.has('aoai-secret-123'), true);
  assert.equal(loaded.secrets.has('team-a-key-0001'), true);
});

void test('omitted gateway, admin and timeout settings take their documented defaults', () => {
  let text = edit(VALID, 'gateway: { listen: 127.0.0.1:8080 }\nadmin:   { listen: 127.0.0.1:8081 }\n', '');
  text = edit(text, 'timeouts: { connectMs: 5000, responseHeadersMs: 120000, idleStreamMs: 60000 }', 'timeouts: { connectMs: 1500 }');
  const c = loadConfigText(text, 'tollgate.yaml', ENV).config;
  assert.equal(c.gateway.listen, '127.0.0.1:8080');
  assert.equal(c.gateway.maxBodyBytes, 4_194_304);
  assert.equal(c.admin.listen, '127.0.0.1:8081');
  assert.equal(c.admin.enabled, true);
  assert.deepEqual(c.backends['aoai-eastus']!.timeouts, { connectMs: 1500, responseHeadersMs: 120_000, idleStreamMs: 60_000 });

  const noTimeouts = loadConfigText(edit(text, '    timeouts: { connectMs: 1500 }\n', ''), 'tollgate.yaml', ENV).config;
  assert.deepEqual(noTimeouts.backends['aoai-eastus']!.timeouts, { connectMs: 5000, responseHeadersMs: 120_000, idleStreamMs: 60_000 });
});

void test('an empty file is a valid, empty configuration', () => {
  const c = loadConfigText('', 'tollgate.yaml', {}).config;
  assert.equal(c.gateway.listen, '127.0.0.1:8080');
  assert.deepEqual([c.backends, c.apis, c.products, c.subscriptions], [{}, {}, {}, {}]);
});

void test('a YAML syntax error is a ConfigError carrying the parser message', () => {
  const err = loadError('gateway: {}\nadmin: {}\ngateway: {}\n');
  assert.equal(err.name, 'ConfigError');
  assert.equal(err.code, 'GW_ERR_CONFIG_INVALID');
  assert.equal(err.issues.length, 1);
  assert.equal(err.issues[0]!.file, 'tollgate.yaml');
  assert.equal(err.issues[0]!.path, '');
  assert.equal(err.issues[0]!.message, 'Map keys must be unique');
});

void test(
  'a YAML syntax error is reported at the line and column where it occurs',
  () => {
    // Duplicate key on line 3, column 1.
    const dup = loadError('gateway: {}\nadmin: {}\ngateway: {}\n');
    assert.deepEqual([dup.issues[0]!.line, dup.issues[0]!.col], [3, 1]);
    // Unterminated quote opened on line 2, column 11 (yaml reports where the closing quote is missing: 3:1).
    const quote = loadError('gateway:\n  listen: "abc\n');
    assert.equal(quote.issues[0]!.message, 'Missing closing "quote');
    assert.deepEqual([quote.issues[0]!.line, quote.issues[0]!.col], [3, 1]);
  },
);

void test(
  'YAML that parses but cannot be converted (an unresolved alias) is still a ConfigError',
  () => {
    const err = loadError('gateway: *nowhere\n');
    assert.equal(err.issues.length, 1);
    assert.equal(err.issues[0]!.line, 1);
  },
);

void test('an unknown field is reported by name on its line', () => {
  const text = edit(VALID, '    type: openai\n', '    type: openai\n    retries: 3\n');
  const err = loadError(text);
  assert.deepEqual(
    err.issues.map((i) => [i.line, i.path, i.message]),
    [[15, 'apis.azure-openai.retries', 'unknown field "retries"']],
  );
});

void test(
  "an unknown field is located at its key's line:col, not at its value",
  () => {
    // `retries: 3` on line 15: key at column 5, value at column 14.
    const inline = loadError(edit(VALID, '    type: openai\n', '    type: openai\n    retries: 3\n'));
    assert.deepEqual(brief(inline.issues), ['15:5 apis.azure-openai.retries | unknown field "retries"']);
    // A block value starts on the next line; the key is still on line 15, column 5.
    const block = loadError(edit(VALID, '    type: openai\n', '    type: openai\n    retry:\n      count: 3\n'));
    assert.deepEqual(brief(block.issues), ['15:5 apis.azure-openai.retry | unknown field "retry"']);
  },
);

void test('a headersTimeoutMs greater than requestTimeoutMs is reported at headersTimeoutMs (node:http would refuse to start)', () => {
  const err = loadError(edit(VALID, 'gateway: { listen: 127.0.0.1:8080 }', 'gateway: { listen: 127.0.0.1:8080, headersTimeoutMs: 20000, requestTimeoutMs: 5000 }'));
  assert.deepEqual(
    err.issues.map((i) => [i.path, i.message]),
    [['gateway.headersTimeoutMs', 'must not be greater than requestTimeoutMs']],
  );
  // requestTimeoutMs: 0 turns the whole-request timeout off: any headersTimeoutMs is fine.
  loadConfigText(edit(VALID, 'gateway: { listen: 127.0.0.1:8080 }', 'gateway: { listen: 127.0.0.1:8080, headersTimeoutMs: 20000, requestTimeoutMs: 0 }'), 'tollgate.yaml', ENV);
});

void test('an api naming an undefined backend is reported at that value', () => {
  const err = loadError(edit(VALID, 'backend: aoai-eastus', 'backend: aoai-westus'));
  assert.deepEqual(brief(err.issues), ['15:14 apis.azure-openai.backend | backend "aoai-westus" is not defined under backends']);
});

void test('a product naming an undefined api is reported at that list item', () => {
  const err = loadError(edit(VALID, 'apis: [azure-openai]', 'apis: [azure-openai, ghost-api]'));
  assert.deepEqual(brief(err.issues), ['18:35 products.starter.apis.1 | api "ghost-api" is not defined under apis']);
});

void test('a subscription naming an undefined product is reported at that value', () => {
  const err = loadError(edit(VALID, 'product: starter', 'product: premium'));
  assert.deepEqual(brief(err.issues), ['20:22 subscriptions.team-a.product | product "premium" is not defined under products']);
});

void test('a key shared by two subscriptions is reported at the second use, without printing the key', () => {
  let text = edit(VALID, 'keys: ["{{team-a-key}}"]', 'keys: ["{{team-a-key}}", "shared-key-0001"]');
  text += '  team-b: { product: starter, keys: ["team-b-key-0001", "shared-key-0001"] }\n';
  const err = loadError(text);
  assert.deepEqual(brief(err.issues), ['21:57 subscriptions.team-b.keys.1 | this key is already a key of subscription "team-a"']);
  assert.equal(err.message.includes('shared-key-0001'), false);
});

void test('two apis mounted at the same path are reported at the second path', () => {
  const text = edit(VALID, 'products:\n', '  azure-openai-2: { path: openai }\nproducts:\n');
  const err = loadError(text);
  assert.deepEqual(brief(err.issues), ['17:27 apis.azure-openai-2.path | path "openai" is already used by api "azure-openai"']);
});

void test('{{name}} is replaced from value, env and file named values; file paths are relative to the config file', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'secrets'));
  writeFileSync(join(dir, 'secrets', 'key.txt'), 'file-secret-value\n');
  const file = join(dir, 'tollgate.yaml');
  writeFileSync(
    file,
    `namedValues:
  host: { value: literal-host }
  from-env: { env: TG_TEST_VALUE }
  from-file: { file: secrets/key.txt, secret: true }
backends:
  b:
    url: "https://{{host}}.example.com/openai"
    credentials:
      header: { x-env: "{{from-env}}", api-key: "{{from-file}}" }
      bearer: "{{host}}/{{from-env}}/{{host}}"
`,
  );
  const loaded = loadConfigFile(file, { TG_TEST_VALUE: 'env-value' });
  assert.equal(loaded.file, file);
  assert.deepEqual(loaded.config.backends['b'], {
    type: 'Single',
    url: 'https://literal-host.example.com/openai',
    credentials: { header: { 'x-env': 'env-value', 'api-key': 'file-secret-value' }, bearer: 'literal-host/env-value/literal-host' },
    timeouts: { connectMs: 5000, responseHeadersMs: 120_000, idleStreamMs: 60_000 },
    maxConnections: 256,
    maxPendingRequests: 1024,
  });
  assert.equal(loaded.secrets.has('file-secret-value'), true);
  assert.equal(loaded.secrets.has('literal-host'), false);
  assert.equal(loaded.secrets.has('env-value'), false);
});

void test('a file named value that cannot be read is reported at its file field', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'tollgate.yaml');
  writeFileSync(file, 'namedValues:\n  k: { file: missing.txt }\n');
  const err = configError(() => loadConfigFile(file, {}));
  assert.deepEqual(
    err.issues.map((i) => [i.file, i.line, i.col, i.path, i.message]),
    [[file, 2, 14, 'namedValues.k.file', 'cannot read file for named value "k" (ENOENT)']],
  );
});

void test('a config file that does not exist is a ConfigError at 1:1', (t) => {
  const file = join(tempDir(t), 'absent.yaml');
  const err = configError(() => loadConfigFile(file, {}));
  assert.deepEqual(err.issues, [{ file, line: 1, col: 1, path: '', message: 'cannot read config file (ENOENT)' }]);
});

void test('a missing environment variable is reported at namedValues.<name>.env', () => {
  const err = loadError(VALID, { AOAI_KEY: 'aoai-secret-123' });
  const own = err.issues.filter((i) => i.path.startsWith('namedValues.'));
  assert.deepEqual(brief(own), ['5:22 namedValues.team-a-key.env | environment variable TEAM_A_KEY is not set (named value "team-a-key")']);
});

void test('an unknown {{name}} is reported at the string that uses it', () => {
  const err = loadError(edit(VALID, '"{{aoai-key}}"', '"{{aoai-kee}}"'));
  assert.deepEqual(brief(err.issues), ['9:39 backends.aoai-eastus.credentials.header.api-key | unknown named value "{{aoai-kee}}"']);
});

const CANARY = 'CANARY-7f3a9c-never-print-me';

void test('a secret named value never appears in an error, whatever field it lands in', () => {
  const env = { AOAI_KEY: CANARY, TEAM_A_KEY: 'team-a-key-0001' };
  // Schema errors: the secret as a URL, an enum value and a listen address.
  let schemaBad = edit(VALID, 'url: https://aoai-eastus.openai.azure.com/openai', 'url: "{{aoai-key}}"');
  schemaBad = edit(schemaBad, 'type: openai', 'type: "{{aoai-key}}"');
  schemaBad = edit(schemaBad, 'listen: 127.0.0.1:8080', 'listen: "{{aoai-key}}"');
  const schemaErr = loadError(schemaBad, env);
  assert.deepEqual(
    schemaErr.issues.map((i) => i.path),
    ['gateway.listen', 'backends.aoai-eastus.url', 'apis.azure-openai.type'],
  );
  // Reference errors quote the offending value, so here redaction is what keeps the secret out.
  let refBad = edit(VALID, 'backend: aoai-eastus', 'backend: "{{aoai-key}}"');
  refBad = edit(refBad, 'product: starter', 'product: "x-{{aoai-key}}-y"');
  const refErr = loadError(refBad, env);
  assert.deepEqual(brief(refErr.issues), [
    '15:14 apis.azure-openai.backend | backend "[REDACTED]" is not defined under backends',
    '20:22 subscriptions.team-a.product | product "x-[REDACTED]-y" is not defined under products',
  ]);
  for (const err of [schemaErr, refErr]) {
    assert.equal(err.message.includes(CANARY), false);
    assert.equal(JSON.stringify(err.issues).includes(CANARY), false);
  }
});

void test(
  'a secret that contains a shorter secret is redacted whole',
  () => {
    const text = `namedValues:
  short: { env: SHORT, secret: true }
  long: { env: LONG, secret: true }
apis:
  a: { path: p, backend: "{{long}}" }
`;
    const err = loadError(text, { SHORT: 'sk-live', LONG: 'sk-live-TAILSECRET' });
    assert.equal(err.issues.length, 1);
    assert.equal(err.message.includes('TAILSECRET'), false);
  },
);

void test('every problem is reported, sorted by line and then column', () => {
  // Subscriptions come first in the file but are checked last.
  const refs = loadError(`subscriptions:
  s1: { product: nope, keys: ["{{undefined-ref}}"] }
apis:
  a: { path: p, backend: missing }
  b: { path: p }
products:
  p1: { apis: [ghost] }
`);
  assert.deepEqual(brief(refs.issues), [
    '2:18 subscriptions.s1.product | product "nope" is not defined under products',
    '2:31 subscriptions.s1.keys.0 | unknown named value "{{undefined-ref}}"',
    '4:26 apis.a.backend | backend "missing" is not defined under backends',
    '5:14 apis.b.path | path "p" is already used by api "a"',
    '7:16 products.p1.apis.0 | api "ghost" is not defined under apis',
  ]);

  const schema = loadError(`apis:
  a: { path: "/bad/" }
gateway: { listen: bad, foo: 1 }
namedValues:
  k: { env: NOPE }
`, {});
  assert.deepEqual(brief(schema.issues), [
    '2:14 apis.a.path | expected a path like "openai" or "" (no leading or trailing slash)',
    '3:20 gateway.listen | expected host:port, e.g. 127.0.0.1:8080',
    '3:25 gateway.foo | unknown field "foo"',
    '5:13 namedValues.k.env | environment variable NOPE is not set (named value "k")',
  ]);
  assert.equal(schema.message, schema.issues.map(formatIssue).join('\n'));
});

void test('formatIssue prints file:line:col: message, with the path when there is one', () => {
  assert.equal(
    formatIssue({ file: 'conf/tollgate.yaml', line: 15, col: 14, path: 'apis.a.backend', message: 'backend "x" is not defined under backends' }),
    'conf/tollgate.yaml:15:14: backend "x" is not defined under backends (at apis.a.backend)',
  );
  assert.equal(formatIssue({ file: 'tollgate.yaml', line: 1, col: 1, path: '', message: 'Map keys must be unique' }), 'tollgate.yaml:1:1: Map keys must be unique');
});

function runValidate(file: string, env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['src/cli/main.ts', 'validate', '--config', file], {
    cwd: REPO_ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

void test('tollgate validate: a good file prints ok and exits 0', (t) => {
  const file = join(tempDir(t), 'tollgate.yaml');
  writeFileSync(file, VALID);
  const r = runValidate(file, ENV);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, `${file}: ok (1 backends, 1 apis, 1 products, 1 subscriptions)\n`);
  assert.equal(r.status, 0);
});

void test('tollgate validate: a bad file prints one file:line:col line per problem and exits 1, never printing a secret', (t) => {
  const file = join(tempDir(t), 'tollgate.yaml');
  let text = edit(VALID, 'backend: aoai-eastus', 'backend: "{{aoai-key}}"');
  text = edit(text, 'apis: [azure-openai]', 'apis: [azure-openai, ghost-api]');
  writeFileSync(file, text);
  const r = runValidate(file, { AOAI_KEY: CANARY, TEAM_A_KEY: 'team-a-key-0001' });
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.deepEqual(lines, [
    `${file}:15:14: backend "[REDACTED]" is not defined under backends (at apis.azure-openai.backend)`,
    `${file}:18:35: api "ghost-api" is not defined under apis (at products.starter.apis.1)`,
  ]);
  for (const line of lines) assert.match(line, /^.+:\d+:\d+: /);
  assert.equal(r.stdout.includes(CANARY) || r.stderr.includes(CANARY), false);
});

void test('every unknown field is its own issue, at its key, with the closest known field', () => {
  const text = edit(edit(VALID, '    type: openai\n', '    type: openai\n    deploymnets: [gpt-4o]\n    retries: 3\n'), '  starter: { apis: [azure-openai] }', '  starter: { apis: [azure-openai], dispalyName: Starter }');
  assert.deepEqual(brief(loadError(text).issues), [
    '15:5 apis.azure-openai.deploymnets | unknown field "deploymnets"; did you mean "deployments"?',
    '16:5 apis.azure-openai.retries | unknown field "retries"',
    '20:36 products.starter.dispalyName | unknown field "dispalyName"; did you mean "displayName"?',
  ]);
});

void test('an unknown field under loggers is a load error, like everywhere else', () => {
  const text = `${VALID}loggers:\n  usage: { type: stdout, descripton: token usage }\n`;
  assert.deepEqual(brief(loadError(text).issues), ['22:26 loggers.usage.descripton | unknown field "descripton"; did you mean "description"?']);
  assert.doesNotThrow(() => loadConfigText(`${VALID}loggers:\n  usage: { type: stdout, description: token usage }\n`, 'tollgate.yaml', ENV));
});
