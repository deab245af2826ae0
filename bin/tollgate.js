#!/usr/bin/env node
// The `tollgate` command. Tollgate is TypeScript that Node 24 runs directly (type stripping;
// `start` runs the JavaScript tsc emits from it, bin/build.js);
// when invoked by an older Node, re-run under the Node 24 that npm installed next to it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { HEAP_FLAGS } from './node-flags.js';
import { ensureBuild } from './build.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'src', 'cli', 'main.ts');
const major = Number(process.versions.node.split('.')[0]);
// V8 lets the young generation grow to 2 x 64 MB under a high allocation rate, which a gateway
// at load always has: that alone took the resident memory of `tollgate start` from ~115 MB idle
// to ~330 MB. With 8 MB semi-spaces the peak was ~225 MB and CPU per request was no worse
// (0.93-1.0x in alternating slices; docs/performance.md). V8 reads the size only when the heap
// is created, so `start` re-executes itself with the flag: process.execve keeps the PID (and so
// the signals a supervisor sends) and the stdio. A size the operator gives (in NODE_OPTIONS or
// on the command line) is kept, and TOLLGATE_NODE_FLAGS=0 leaves the flags to Node.
// A process with an IPC channel to its parent (a supervisor such as pm2, or the bench) is not
// re-executed: the channel's descriptor does not survive execve. Such a parent gives the flag.
function reexecWithHeapFlags() {
  if (process.argv[2] !== 'start' || typeof process.execve !== 'function' || process.env.TOLLGATE_NODE_FLAGS === '0') return;
  if (process.channel !== undefined) return;
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (given.some((a) => /^--max-semi-space-size\b/.test(a))) return;
  process.execve(process.execPath, [process.execPath, ...HEAP_FLAGS, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], process.env);
}

// `start` runs the JavaScript tsc emits from src/ (bin/build.js: Node's TypeScript stripper
// would otherwise stay resident, ~17 MB); TOLLGATE_FROM_SOURCE=1 runs the .ts sources instead.
function entryModule() {
  if (process.argv[2] !== 'start' || process.env.TOLLGATE_FROM_SOURCE === '1') return main;
  return ensureBuild(root) ?? main;
}

if (major >= 24) {
  reexecWithHeapFlags();
  // Same process, same PID: signals sent to this PID reach the gateway itself.
  await import(entryModule());
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
  const child = spawn(local, [entryModule(), ...process.argv.slice(2)], { stdio: 'inherit', detached: true });
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
