/**
 * Starts a worker thread from a module beside the caller: the one place that knows how, for the
 * SQLite ledger's writer and query threads and the semantic cache's HNSW thread.
 * @module
 */
import { Worker } from 'node:worker_threads';
import { siblingModule } from './lazy-module.ts';

/**
 * @param base `import.meta.url` of the caller.
 * @param specifier the worker's module relative to the caller, as `./x.ts` (`./x.js` in the
 * built tree: siblingModule).
 */
export function startSiblingWorker(base: string, specifier: string, workerData?: unknown): Worker {
  return new Worker(new URL(siblingModule(base, specifier), base), { workerData, execArgv: workerExecArgv() });
}

/**
 * The Node options for a worker: undefined (the process's own, which Node copies: type
 * stripping, heap flags) unless the process was started with `--input-type`, which a worker
 * inherits and then refuses ("--input-type can only be used with string input"), failing every
 * worker of a process started as `node --input-type=module -e ...` (a script, a test's child
 * process). Such a process gets workers without the process's per-thread options; V8's flags
 * (heap sizes) are process-wide and still apply. Not a filtered copy: `process.execArgv` also
 * holds per-process options (`-e` and its script, `--v8-pool-size` under `node --test`) that Node
 * rejects as a worker's `execArgv`.
 */
function workerExecArgv(): string[] | undefined {
  return process.execArgv.some((a) => a === '--input-type' || a.startsWith('--input-type=')) ? [] : undefined;
}
