/**
 * `tollgate validate` (the command as a user runs it) on configurations with secret named values
 * in policy documents: a secret used as a header name, one holding `"` (a value in an attribute;
 * it ends an expression's string literal early), one holding `&amp;`, one holding attribute
 * syntax (still a value). Each problem is reported as `file:line:col: message`, no uncaught
 * exception, and no part of any secret is printed.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const dir = mkdtempSync(join(tmpdir(), 'tollgate-secret-validate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const token = (): string => `cnry${randomBytes(6).toString('hex')}`;

function validate(secret: string, policy: string): { status: number | null; out: string } {
  const file = join(dir, `${token()}.yaml`);
  const yaml = [
    'namedValues:',
    `  s: { value: ${JSON.stringify(secret)}, secret: true }`,
    'backends:',
    '  b: { url: "http://127.0.0.1:9/x" }',
    'apis:',
    '  a:',
    '    path: a',
    '    type: http',
    '    backend: b',
    '    policies: |',
    `      <policies><inbound>${policy}</inbound><backend><base/></backend><outbound/><on-error/></policies>`,
    '',
  ].join('\n');
  writeFileSync(file, yaml);
  const r = spawnSync(process.execPath, [MAIN, 'validate', '--config', file], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Every part of the secret around its special characters must stay out of the output. */
function assertClean(out: string, parts: string[]): void {
  for (const p of parts) assert.ok(!out.toLowerCase().includes(p), `"${p}" printed:\n${out}`);
  assert.doesNotMatch(out, /^\s+at /m, 'no stack trace');
  for (const line of out.trim().split('\n')) assert.match(line, /\.yaml:\d+:\d+: /, `every line is file:line:col: message, got: ${line}`);
}

test('a secret used as a header name is reported at the element, redacted, without an uncaught exception', () => {
  const [a, b] = [token(), token()];
  const r = validate(`${a} ${b}`, '<set-header name="{{s}}" exists-action="override"><value>x</value></set-header>');
  assert.equal(r.status, 1);
  assert.match(r.out, /<set-header>: .*is not a valid header name/);
  assertClean(r.out, [a, b]);
});

test('a secret holding a quote is never printed in part: in an attribute, in an expression\'s string literal', () => {
  const [a, b] = [token(), token()];
  // A named value is a value: a quote in it does not end the attribute, so the document is valid.
  const attr = validate(`${a}"${b}`, '<set-header name="x" exists-action="override"><value>x</value></set-header><set-variable name="v" value="{{s}}" />');
  assert.equal(attr.status, 0, attr.out);
  for (const p of [a, b]) assert.ok(!attr.out.includes(p), `"${p}" printed:\n${attr.out}`);

  // Balanced quotes, so the document reads; the expression `@("a" b "c")` then fails to compile
  // on `b`, which its syntax error would quote.
  const c = token();
  const expr = validate(`${a}" ${b} "${c}`, '<set-header name="x" exists-action="override"><value>@("{{s}}")</value></set-header>');
  assert.equal(expr.status, 1);
  assert.match(expr.out, /does not compile \(it contains a secret named value/);
  assertClean(expr.out, [a, b, c]);
});

test('a secret holding &amp; is redacted in its decoded form too', () => {
  const [a, b] = [token(), token()];
  const r = validate(`${a}&amp;${b}`, '<set-backend-service backend-id="{{s}}" />');
  assert.equal(r.status, 1);
  assert.match(r.out, /names backend "\[REDACTED\]", which is not defined/);
  assertClean(r.out, [a, b]);
});

test('a secret holding attribute syntax stays a value and adds no attribute', () => {
  const [a, b] = [token(), token()];
  // Were it pasted into the XML, `exists-action` would be a second attribute of <set-variable> (a load error).
  const r = validate(`${a}" exists-action="${b}`, '<set-header name="x" exists-action="override"><value>x</value></set-header><set-variable name="v" value="{{s}}" />');
  assert.equal(r.status, 0, r.out);
  for (const p of [a, b]) assert.ok(!r.out.includes(p), `"${p}" printed:\n${r.out}`);
});

test('a document whose own XML is broken still gets the reader\'s message, with the secret masked', () => {
  const [a, b] = [token(), token()];
  const r = validate(`${a}${b}`, '<set-variable name="v" value="{{s}}" /><oops');
  assert.equal(r.status, 1);
  assert.doesNotMatch(r.out, /secret named value/);
  assertClean(r.out, [a, b]);
});
