/**
 * `tollgate start` runs the JavaScript tsc emits from src/ (bin/build.js), so that Node's
 * TypeScript stripper never loads into the gateway. These tests build a copy of the project in a
 * temporary directory: the emit runs, is reused while the sources are unchanged, is redone when
 * one changes, and the result runs; without TypeScript installed the gateway runs from src/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuild } from '../../bin/build.js';
import { siblingModule } from '../../src/util/lazy-module.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** A project copy: src/, bin/, the tsconfigs, package.json; node_modules linked, not copied. */
function projectCopy(withTypeScript: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-build-'));
  for (const entry of ['src', 'bin', 'tsconfig.json', 'tsconfig.build.json', 'package.json']) {
    cpSync(join(ROOT, entry), join(dir, entry), { recursive: true, filter: (f) => !f.endsWith('.test.ts') });
  }
  if (withTypeScript) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

void test('start compiles src/ once, reuses the build while the sources are unchanged, and rebuilds after a change', { timeout: 180_000 }, () => {
  const dir = projectCopy(true);
  try {
    const main = ensureBuild(dir);
    assert.ok(main !== null, 'TypeScript is installed, so the build is made');
    assert.match(main, /\.build\/[0-9a-f]{16}\/src\/cli\/main\.js$/);
    const build = join(main, '..', '..', '..');
    // What the code loads by a path it computes, not by an import tsc rewrites, is in the build too.
    for (const file of ['src/mcp/endpoint.js', 'src/ledger/postgres-store.js', 'src/ledger/sqlite-query-worker.js', 'src/admin/dashboard/index.html', 'src/admin/dashboard/app.js']) {
      assert.ok(existsSync(join(build, file)), `${file} is in the build`);
    }
    // The emitted program runs on its own (no .ts file involved).
    const version = spawnSync(process.execPath, [main, 'version'], { encoding: 'utf8' });
    assert.equal(version.status, 0, version.stderr);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);

    assert.equal(ensureBuild(dir), main, 'unchanged sources: the same build');
    appendFileSync(join(dir, 'src', 'version.ts'), '\n// changed\n');
    const rebuilt = ensureBuild(dir);
    assert.ok(rebuilt !== null && rebuilt !== main, 'a changed source gets a new build');
    assert.ok(existsSync(main), 'the previous build stays for a gateway still running from it');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('without TypeScript installed start runs from the TypeScript sources', () => {
  const dir = projectCopy(false);
  try {
    assert.equal(ensureBuild(dir), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a checkout where the build cannot be written starts from the TypeScript sources', () => {
  const dir = projectCopy(true);
  try {
    writeFileSync(join(dir, '.build'), 'a file where the build directory would go');
    assert.equal(ensureBuild(dir), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a relative .ts specifier names the .js sibling only when the caller is itself emitted JavaScript', () => {
  assert.equal(siblingModule('file:///p/.build/h/src/ledger/index.js', './postgres-store.ts'), './postgres-store.js');
  assert.equal(siblingModule('file:///p/src/ledger/index.ts', './postgres-store.ts'), './postgres-store.ts');
  assert.equal(siblingModule('file:///p/.build/h/src/cache/vector-index.js', 'usearch'), 'usearch', 'package names are left alone');
});
