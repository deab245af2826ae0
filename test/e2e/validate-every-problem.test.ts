/**
 * `tollgate validate` lists every problem of a configuration in one run, each `file:line:col`, with
 * "did you mean" for misspelt attributes, policies, `context` members and config fields; a
 * fragment's problem is listed once however many documents include it; `start` refuses the same
 * configuration with the same list.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

const CONFIG = `backends:
  openai-backend: { url: "http://127.0.0.1:9/openai" }
apis:
  azure-openai: { path: openai, backend: openai-backend, policies: api.xml }
products:
  starter: { apis: [azure-openai] }
policies: global.xml
fragments:
  stamp: stamp.xml
`;

// Line numbers matter: the assertions name them.
const API_XML = `<policies>
  <inbound>
    <base />
    <set-header nmae="x-a" exists-action="override"><value>1</value></set-header>
    <set-varaible name="v" value="1" />
    <set-header name="x-b" exists-action="override">
      <value>@(context.Subscription.Idd)</value>
    </set-header>
    <include-fragment fragment-id="stamp" />
    <set-header name="x-c" exists-action="override"><value>fine</value></set-header>
  </inbound>
</policies>
`;

const GLOBAL_XML = `<policies>
  <inbound>
    <include-fragment fragment-id="stamp" />
  </inbound>
</policies>
`;

const STAMP_XML = `<fragment>
  <set-header name="x-stamp" exists-action="overide"><value>@(context.Api.Nmae)</value></set-header>
</fragment>
`;

const EXPECTED = [
  `api.xml:4:23: <set-header> has no attribute "nmae"; did you mean "name"?`,
  `api.xml:5:5: unknown policy <set-varaible>; did you mean <set-variable>?`,
  `api.xml:7:37: <value> text: 'ISubscription' does not contain a definition for 'Idd'; did you mean 'Id'?`,
  `stamp.xml:2:45: <set-header> attribute "exists-action" must be one of override, skip, append, delete, got "overide"; did you mean "override"?`,
  `stamp.xml:2:75: <value> text: 'IApi' does not contain a definition for 'Nmae'; did you mean 'Name'?`,
];

function withConfig(fn: (config: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-validate-'));
  try {
    writeFileSync(join(dir, 'tollgate.yaml'), CONFIG);
    writeFileSync(join(dir, 'api.xml'), API_XML);
    writeFileSync(join(dir, 'global.xml'), GLOBAL_XML);
    writeFileSync(join(dir, 'stamp.xml'), STAMP_XML);
    fn(join(dir, 'tollgate.yaml'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The problem lines, without the trailing `(at config.path)`. */
function problems(stderr: string): string[] {
  return stderr
    .trim()
    .split('\n')
    .map((l) => l.replace(/ \(at [^)]*\)$/, ''));
}

test('validate lists every problem of every document in one run, located, with "did you mean", a fragment\'s once', () => {
  withConfig((config) => {
    const r = spawnSync(process.execPath, [MAIN, 'validate', '--config', config], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.deepEqual(problems(r.stderr), EXPECTED);
    assert.equal(r.stdout, '');
  });
});

test('start refuses the same configuration with the same complete list', () => {
  withConfig((config) => {
    const r = spawnSync(process.execPath, [MAIN, 'start', '--config', config, '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.deepEqual(problems(r.stderr), EXPECTED);
  });
});
