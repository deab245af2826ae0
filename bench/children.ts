// Child processes of the benchmark: backend, floor and Tollgate each get their
// own process so that none of them shares an event loop with the load generator.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { CpuReply } from './cpu-probe.ts';

const PROBE = fileURLToPath(new URL('./cpu-probe.ts', import.meta.url));
const TAIL_BYTES = 8 * 1024;
const CLK_TCK = 100; // getconf CLK_TCK on Linux/x86 and arm64

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** Last few KiB of stderr and stdout, for error messages. */
  tail(): string;
  /** Resolves with the exit code/signal; never rejects. */
  exited: Promise<string>;
}

const live = new Set<Child>();

/** Spawns `node --import cpu-probe <args>` on this Node (24), with an IPC channel. */
export function startChild(name: string, args: string[], cwd: string, cpuList?: string): Child {
  const argv = [process.execPath, '--import', PROBE, ...args];
  // taskset execs node, so the pid (and the IPC channel) stay node's own.
  if (cpuList !== undefined) argv.unshift('taskset', '-c', cpuList);
  const proc = spawn(argv[0]!, argv.slice(1), {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  let tail = '';
  // Always drain both pipes: a full pipe would block a child that logs.
  const keep = (b: Buffer): void => {
    tail = (tail + b.toString('utf8')).slice(-TAIL_BYTES);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<string>((resolve) => {
    proc.once('exit', (code, signal) => resolve(signal ?? `code ${String(code)}`));
    proc.once('error', (err) => resolve(err.message));
  });
  const child: Child = { name, proc, pid: proc.pid ?? -1, tail: () => tail, exited };
  live.add(child);
  void exited.then(() => live.delete(child));
  return child;
}

/** Waits for the child's `READY <port>` line on stdout. */
export function waitReady(child: Child, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => fail(`no READY line within ${timeoutMs} ms`), timeoutMs);
    const onData = (b: Buffer): void => {
      buf = (buf + b.toString('utf8')).slice(-4096);
      const m = /^READY (\d+)$/m.exec(buf);
      if (m?.[1] === undefined) return;
      cleanup();
      resolve(Number(m[1]));
    };
    const onExit = (): void => fail('exited before READY');
    const cleanup = (): void => {
      clearTimeout(timer);
      child.proc.stdout?.off('data', onData);
      child.proc.off('exit', onExit);
    };
    function fail(why: string): void {
      cleanup();
      reject(new Error(`${child.name} ${why}:\n${child.tail()}`));
    }
    child.proc.stdout?.on('data', onData);
    child.proc.once('exit', onExit);
  });
}

let nextId = 0;

/** CPU time (user+system, µs) of the child, through the preloaded probe. */
export function cpuViaIpc(child: Child, timeoutMs = 2000): Promise<number> {
  const id = ++nextId;
  if (!child.proc.connected) return Promise.reject(new Error(`${child.name} died:\n${child.tail()}`));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.proc.off('message', onMsg);
      const dead = child.proc.exitCode !== null || child.proc.signalCode !== null;
      reject(new Error(`${child.name} ${dead ? 'died' : 'did not answer the CPU probe'}:\n${child.tail()}`));
    }, timeoutMs);
    const onMsg = (msg: unknown): void => {
      const r = msg as Partial<CpuReply>;
      if (r.type !== 'cpu' || r.id !== id) return;
      clearTimeout(timer);
      child.proc.off('message', onMsg);
      resolve((r.user ?? 0) + (r.system ?? 0));
    };
    child.proc.on('message', onMsg);
    child.proc.send({ type: 'cpu', id });
  });
}

/** Fallback when the probe is unreachable: /proc/<pid>/stat, 10 ms ticks. */
export function cpuViaProc(pid: number, tid?: number): number {
  // /proc/<pid>/task/<pid>/stat is the main thread alone (the event loop), without the worker,
  // libuv pool and V8 helper threads that /proc/<pid>/stat sums.
  const f = statFields(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`);
  return ticksUs(f[11], f[12]); // utime, stime
}

/** The process's system (kernel) CPU time, µs, from /proc (10 ms ticks: meant for sums over slices); NaN when unreadable. */
export function systemCpuViaProc(pid: number): number {
  try {
    return ticksUs(statFields(`/proc/${pid}/stat`)[12]);
  } catch {
    return Number.NaN;
  }
}

/** The fields of a /proc stat line after the command name (field 2 may contain spaces, so counted from its ')'). */
function statFields(path: string): string[] {
  const stat = readFileSync(path, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** The sum of clock-tick fields, in µs. */
function ticksUs(...fields: Array<string | undefined>): number {
  return (fields.reduce((sum, f) => sum + Number(f), 0) * 1e6) / CLK_TCK;
}

export interface CpuReader {
  source: 'ipc' | 'proc';
  /** Peak resident memory (VmHWM) of the child so far, MB; null when unreadable. */
  rssPeakMb(): number | null;
  /** Cumulative CPU time (user+system) of the child, µs. */
  read(): Promise<number>;
  /** Cumulative system (kernel) CPU time of the whole process, µs (/proc, 10 ms ticks). */
  readSystem?(): number;
}

function rssPeakMb(pid: number): number | null {
  try {
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? null : Number(kb) / 1024;
  } catch {
    return null;
  }
}

/** CPU time of this process's waited-for children (wrk runs), µs, from /proc/self/stat; 0 without /proc. */
export function childrenCpuUs(): number {
  try {
    const f = statFields('/proc/self/stat');
    return ticksUs(f[13], f[14]); // cutime, cstime
  } catch {
    return 0;
  }
}

/** /proc only: 10 ms ticks, but no IPC round trip that a loaded machine can delay past its
 *  timeout (slices of a few seconds make the tick error small). */
/** `mainThread`: the CPU of the child's main thread only (its event loop), not of all its threads. */
export function procCpuReader(child: Child, mainThread = false): CpuReader {
  return { source: 'proc', read: () => Promise.resolve(cpuViaProc(child.pid, mainThread ? child.pid : undefined)), rssPeakMb: () => rssPeakMb(child.pid), readSystem: () => systemCpuViaProc(child.pid) };
}

/** Picks the most precise source that works for this child, once, so that
 *  the before and after readings of a measurement never mix sources. */
export async function cpuReader(child: Child): Promise<CpuReader> {
  try {
    await cpuViaIpc(child);
    // A loaded machine can hold a busy child's answer for seconds: waiting longer than the
    // first probe's 2 s keeps a slow reading from ending the whole run (a dead child still fails at once).
    return { source: 'ipc', read: () => cpuViaIpc(child, 10_000), rssPeakMb: () => rssPeakMb(child.pid), readSystem: () => systemCpuViaProc(child.pid) };
  } catch {
    return procCpuReader(child);
  }
}

/**
 * Pins this process (all its threads) to cpuList and returns a function that
 * restores the previous affinity, or returns undefined when pinning is not
 * possible (no taskset, or fewer than two CPUs).
 */
export function pinSelf(cpuList: string): (() => void) | undefined {
  if (availableParallelism() < 2) return undefined;
  const pid = String(process.pid);
  try {
    const before = /mask: ([0-9a-f]+)/.exec(execFileSync('taskset', ['-p', pid], { encoding: 'utf8' }))?.[1];
    if (before === undefined) return undefined;
    execFileSync('taskset', ['-a', '-p', '-c', cpuList, pid], { stdio: 'ignore' });
    return () => void execFileSync('taskset', ['-a', '-p', before, pid], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
}

/** Whole-machine busy and steal time from /proc/stat, µs summed over CPUs:
 *  busy minus our own processes' CPU is load the benchmark did not cause.
 *  irq and softirq time is left out: on loopback it is mostly our own
 *  traffic, and the kernel charges it to no process. */
export function machineCpu(): { busyUs: number; stealUs: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [user = 0, nice = 0, system = 0, , , , , steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const toUs = (ticks: number): number => (ticks * 1e6) / CLK_TCK;
  return { busyUs: toUs(user + nice + system), stealUs: toUs(steal) };
}

/** SIGTERM, then SIGKILL after graceMs. */
export async function stopChild(child: Child, graceMs = 2000): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((c) => stopChild(c)));
}

/** Last resort for process 'exit', where nothing async can run. */
export function killAllSync(): void {
  for (const c of live) c.proc.kill('SIGKILL');
}
