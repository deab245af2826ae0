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
  // Same process, same PID: signals sent to this PID reach the gateway itself.
  await import(main);
} else {
  const local = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(local)) {
    console.error(`tollgate needs Node.js 24 or newer (this is ${process.version}); run "npm ci" in ${root} first.`);
    process.exit(1);
  }
  // The child gets its own process group, so a terminal's Ctrl-C (sent to the foreground group)
  // reaches only this wrapper, which passes it on once: the child never sees it twice (a second
  // SIGINT means "force exit"). Every signal an operator or supervisor sends to this PID is
  // forwarded: SIGHUP reloads the config, SIGINT/SIGTERM drain and stop; without the forwarding
  // SIGHUP would kill this wrapper and leave the gateway running orphaned.
  const child = spawn(local, [main, ...process.argv.slice(2)], { stdio: 'inherit', detached: true });
  for (const signal of ['SIGHUP', 'SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    });
  }
  child.on('error', (err) => {
    console.error(`tollgate: cannot run ${local}: ${err.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1)));
}
