/**
 * The Node options to start a worker thread with: undefined (the process's own, which Node
 * copies: type stripping, heap flags) unless the process was started with `--input-type`, which
 * a worker inherits and then refuses ("--input-type can only be used with string input"), failing
 * every worker of a process started as `node --input-type=module -e ...` (a script, a test's child
 * process). Such a process gets workers without the process's per-thread options; V8's flags (heap
 * sizes) are process-wide and still apply. Not a filtered copy: `process.execArgv` also holds
 * per-process options (`-e` and its script, `--v8-pool-size` under `node --test`) that Node
 * rejects as a worker's `execArgv`.
 * @module
 */
export function workerExecArgv(): string[] | undefined {
  return process.execArgv.some((a) => a === '--input-type' || a.startsWith('--input-type=')) ? [] : undefined;
}
