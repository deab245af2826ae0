#!/usr/bin/env node
// The `tollgate` command. Tollgate runs TypeScript directly on Node 24 (type stripping);
// when invoked by an older Node, re-run under the Node 24 that npm installed next to it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'src', 'cli', 'main.ts');
const major = Number(process.versions.node.split('.')[0]);
if (major >= 24) {
  await import(main);
} else {
  const local = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(local)) {
    console.error(`tollgate needs Node.js 24 or newer (this is ${process.version}); run "npm ci" in ${root} first.`);
    process.exit(1);
  }
  const child = spawn(local, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
  // Ctrl-C reaches the child from the terminal itself; forwarding it too would count as a second
  // Ctrl-C (force exit). SIGTERM comes from a supervisor and is forwarded.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1)));
}
