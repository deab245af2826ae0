// `tollgate start` runs the gateway from JavaScript that tsc emits from src/, not from the .ts
// files themselves: Node strips types with a WebAssembly build of swc (amaro) that, once loaded,
// stays resident for the life of the process (~17 MB RSS for the first .ts file a bare Node
// loads; docs/performance.md). The emit is a plain transpile (`noCheck`; `npm run typecheck`
// checks types) into .build/<hash of the sources>/, redone only when a source file, the tsconfig
// or the TypeScript version changed, so `npm start` stays one command on a fresh clone.
// Without TypeScript (an install with --omit=dev) or when the emit fails, the gateway runs from
// src/ as before: the build only ever saves memory, it is never needed to start.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const BUILD_DIR = '.build';
// A build other than the current one is removed once it is this old: a gateway still running
// from it may load a module lazily (MCP, the simulator, a ledger store) after a config reload,
// so a fresh one is kept around.
const STALE_BUILD_MS = 24 * 60 * 60 * 1000;

/** Every file under `dir`, sorted, as paths relative to `base`. */
function listFiles(dir, base, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) listFiles(full, base, out);
    else if (entry.isFile()) out.push(relative(base, full));
  }
  return out;
}

/** Hash of what the emit depends on: the sources (tests excluded), both tsconfigs, tsc's version. */
function sourceHash(root, files) {
  const hash = createHash('sha256');
  for (const file of ['tsconfig.json', 'tsconfig.build.json', join('node_modules', 'typescript', 'package.json')]) {
    hash.update(file).update('\0').update(readFileSync(join(root, file))).update('\0');
  }
  for (const file of files) hash.update(file).update('\0').update(readFileSync(join(root, 'src', file))).update('\0');
  return hash.digest('hex').slice(0, 16);
}

function pruneOldBuilds(buildRoot, keep) {
  const now = Date.now();
  for (const name of readdirSync(buildRoot)) {
    if (name === keep) continue;
    const dir = join(buildRoot, name);
    try {
      if (now - statSync(dir).mtimeMs > STALE_BUILD_MS) rmSync(dir, { recursive: true, force: true });
    } catch {
      // another process pruned it first
    }
  }
}

/**
 * The entry module to run for `start`: `.build/<hash>/src/cli/main.js`, emitted first if missing,
 * or null (run from src/) when TypeScript is not installed or the emit failed.
 * @param {string} root the project root
 * @returns {string | null}
 */
export function ensureBuild(root) {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) return null;
  try {
    return build(root, tsc);
  } catch (err) {
    // A read-only checkout, a full disk: the sources still run.
    console.error(`tollgate: could not compile src/ to JavaScript, running from the TypeScript sources (${err instanceof Error ? err.message : String(err)})`);
    return null;
  }
}

function build(root, tsc) {
  const files = listFiles(join(root, 'src'), join(root, 'src')).filter((f) => !f.endsWith('.test.ts'));
  const hash = sourceHash(root, files);
  const buildRoot = join(root, BUILD_DIR);
  const target = join(buildRoot, hash);
  const main = join(target, 'src', 'cli', 'main.js');
  if (existsSync(join(target, 'complete'))) return main;

  // Emit into a private directory, then rename it into place: gateways started together (the
  // bench starts three) each build, and the first rename wins; none ever sees a half-written tree.
  mkdirSync(buildRoot, { recursive: true });
  console.error(`tollgate: compiling src/ to ${relative(root, target)}/ (once per change of the sources)`);
  const tmp = join(buildRoot, `tmp-${process.pid}-${Date.now()}`);
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', join(tmp, 'src')], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    console.error(`tollgate: could not compile src/ to JavaScript, running from the TypeScript sources (${(r.stderr || r.stdout || String(r.error)).trim().split('\n')[0]})`);
    return null;
  }
  // Files the code reads next to itself (the admin dashboard's page, script and style).
  for (const file of files) {
    if (!file.endsWith('.ts')) cpSync(join(root, 'src', file), join(tmp, 'src', file));
  }
  writeFileSync(join(tmp, 'complete'), `${hash}\n`);
  try {
    renameSync(tmp, target);
  } catch {
    // another process finished the same build first
    rmSync(tmp, { recursive: true, force: true });
  }
  pruneOldBuilds(buildRoot, hash);
  return existsSync(join(target, 'complete')) ? main : null;
}
