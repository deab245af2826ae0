/**
 * A bad policy document is a load error at its file:line:col naming the element or attribute;
 * `tollgate validate` reports every one; a reload that fails keeps the running configuration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ConfigError, loadConfigText, type ConfigIssue } from '../../src/config/load.ts';
import { buildRuntime } from '../../src/gateway/runtime.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startTestGateway, TEST_KEY } from '../helpers/gateway.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

function configWith(): string {
  return `backends:
  b: { url: "http://127.0.0.1:9/openai" }
apis:
  a:
    path: openai
    backend: b
    policies: policy.xml
products:
  p: { apis: [a] }
subscriptions:
  s: { product: p, keys: ["tg-key-0123456789"] }
`;
}

function issuesFor(policy: string): ConfigIssue[] {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-policy-'));
  try {
    writeFileSync(join(dir, 'policy.xml'), policy);
    const file = join(dir, 'tollgate.yaml');
    writeFileSync(file, configWith());
    try {
      const loaded = loadConfigText(readFileSync(file, 'utf8'), file);
      const rt = buildRuntime(loaded, { metrics: new Metrics({ defaultMetrics: false }), logger: createLogger('silent'), now: () => 0 });
      void rt.close();
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return [...err.issues];
      throw err;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const cases: Array<[string, string, number, number, RegExp]> = [
  ['an unknown policy element', '<policies>\n  <inbound>\n    <set-headr name="x" />\n  </inbound>\n</policies>', 3, 5, /unknown policy <set-headr>/],
  ['an unknown attribute', '<policies>\n  <inbound>\n    <set-variable name="x" value="1" colour="red" />\n  </inbound>\n</policies>', 3, 46, /<set-variable> has no attribute "colour"/],
  ['a missing required attribute', '<policies><inbound><set-variable name="x" /></inbound></policies>', 1, 20, /set-variable.*value/],
  ['a policy in a section it does not belong to', '<policies><inbound><forward-request /></inbound></policies>', 1, 20, /<forward-request> is not allowed in the inbound section/],
  ['an expression that does not compile', '<policies>\n<inbound>\n<set-variable name="x" value="@(context.Subscription.Id +)" />\n</inbound>\n</policies>', 3, 31, /set-variable/],
  ['a backend-id that is not configured', '<policies><inbound><set-backend-service backend-id="nope" /></inbound></policies>', 1, 53, /backend "nope"/],
  ['malformed XML', '<policies>\n<inbound>\n<set-variable name="x" value="1">\n</inbound>\n</policies>', 4, 1, /./],
  ['a bad enum value', '<policies><inbound><set-header name="x" exists-action="replace"><value>1</value></set-header></inbound></policies>', 1, 56, /exists-action.*override, skip, append, delete/],
];

for (const [what, policy, line, col, message] of cases) {
  test(`${what} is a load error at its line:col`, () => {
    const issues = issuesFor(policy);
    assert.equal(issues.length >= 1, true, 'an error is reported');
    const first = issues[0]!;
    assert.match(first.file, /policy\.xml$/);
    assert.match(first.message, message);
    if (what === 'an expression that does not compile') {
      assert.equal(first.line, line);
    } else {
      assert.deepEqual([first.line, first.col], [line, col], first.message);
    }
  });
}

test('tollgate validate reports every bad document, each as file:line:col', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-validate-'));
  try {
    writeFileSync(join(dir, 'policy.xml'), '<policies><inbound><nope /></inbound></policies>');
    writeFileSync(join(dir, 'global.xml'), '<policies><outbound><set-status code="999" /></outbound></policies>');
    writeFileSync(join(dir, 'tollgate.yaml'), `policies: global.xml\n${configWith()}`);
    const r = spawnSync(process.execPath, [MAIN, 'validate', '--config', join(dir, 'tollgate.yaml')], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.ok(lines.some((l) => /global\.xml:1:\d+: .*code/.test(l)));
    assert.ok(lines.some((l) => /policy\.xml:1:20: unknown policy <nope>/.test(l)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a reload whose policy does not compile leaves the running configuration in force', async () => {
  const t = await startTestGateway({ apiPolicies: '<policies><outbound><base /><set-header name="x-version" exists-action="override"><value>one</value></set-header></outbound></policies>' });
  try {
    const call = async (): Promise<string | null> => {
      const res = await fetch(`${t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'api-key': TEST_KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'reload' }], max_tokens: 1 }),
      });
      await res.arrayBuffer();
      return res.headers.get('x-version');
    };
    assert.equal(await call(), 'one');
    const bad = loadConfigText(
      `backends: { sim: { url: "${t.sim.url}/openai" } }\napis: { openai: { path: "", backend: sim, policies: "<policies><inbound><bogus /></inbound></policies>" } }\n`,
      'next.yaml',
    );
    await assert.rejects(t.gw.reload(bad), (err: unknown) => err instanceof ConfigError && /unknown policy <bogus>/.test(err.message));
    assert.equal(await call(), 'one', 'the old configuration still answers');
  } finally {
    await t.close();
  }
});
