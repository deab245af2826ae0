/**
 * Starts a private `redis-server` for tests: a free 127.0.0.1 port (never the machine's 6379), no
 * persistence, in the foreground as our child so that killing it is exact. `kill`, `pause` and
 * `restart` let tests play the RELIABILITY A5–A7 faults (SIGKILL, SIGSTOP, restart on the same
 * port so clients reconnect to the same URL). The binary comes from PATH (`REDIS_SERVER` overrides);
 * `scripts/ensure-redis.sh` installs it on a machine that lacks it. `startRedisCluster` builds a
 * private Redis Cluster out of such servers (RELIABILITY A8) with `redis-cli --cluster create`.
 * @module
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer } from 'node:net';

export interface RunningRedis {
  readonly url: string;
  readonly port: number;
  /** The current child (a new one after `restart()`). */
  readonly process: ChildProcess;
  /** Kills the server and waits until it has exited. */
  stop(): Promise<void>;
  /** Sends a signal without waiting (default SIGKILL). */
  kill(signal?: NodeJS.Signals): void;
  /** Freezes the server (SIGSTOP): connections stay open, nothing answers. */
  pause(): void;
  resume(): void;
  /** Stops the server if it runs, then starts an empty one on the same port and waits for PING. */
  restart(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const BINARY = process.env['REDIS_SERVER'] ?? 'redis-server';
const CLI = process.env['REDIS_CLI'] ?? 'redis-cli';

/**
 * @example
 * const redis = await startRedis();
 * after(() => redis.stop());
 * const store = new RedisLimitStore({ url: redis.url, failMode: 'open' });
 */
export async function startRedis(extraArgs: readonly string[] = []): Promise<RunningRedis> {
  // Another process may take the port between our probe and the spawn: retry with a new one.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      const child = await spawnRedis(port, extraArgs);
      return handle(port, child, extraArgs);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError instanceof Error ? lastError : new Error('redis-server did not start');
}

function handle(port: number, first: ChildProcess, extraArgs: readonly string[]): RunningRedis {
  let child = first;
  const stop = async (): Promise<void> => {
    const c = child;
    if (c.exitCode !== null || c.signalCode !== null) return;
    const exited = onceExit(c);
    c.kill('SIGKILL');
    await withTimeout(exited, STOP_TIMEOUT_MS, `redis-server on port ${port} did not exit`);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get process() {
      return child;
    },
    stop,
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      child.kill(signal);
    },
    pause() {
      child.kill('SIGSTOP');
    },
    resume() {
      child.kill('SIGCONT');
    },
    async restart() {
      await stop();
      child = await spawnRedis(port, extraArgs);
    },
  };
}

export interface RunningRedisCluster {
  /** The primaries, in start order (each a RunningRedis: kill, pause, stop work per node). */
  readonly nodes: readonly RunningRedis[];
  /** A `redis://` URL per node (seed nodes for a cluster client). */
  readonly urls: readonly string[];
  stop(): Promise<void>;
}

/**
 * A private Redis Cluster of `primaries` primaries (no replicas) on free loopback ports, its
 * 16384 slots spread by `redis-cli --cluster create`; resolves once every node reports
 * `cluster_state:ok`. Node configuration files go to a temporary directory removed by `stop()`.
 * @example
 * const cluster = await startRedisCluster(3);
 * after(() => cluster.stop());
 * const store = new RedisLimitStore({ urls: cluster.urls, cluster: true, failMode: 'open' });
 */
export async function startRedisCluster(primaries = 3): Promise<RunningRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-redis-cluster-'));
  const nodes: RunningRedis[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < primaries; i++) nodes.push(await startRedis(['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${i}.conf`), '--cluster-node-timeout', '5000', '--dir', dir]));
    await run(CLI, ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], READY_TIMEOUT_MS);
    // `create` returns once the slots are assigned; every node must also agree the cluster is up.
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (const n of nodes) {
      while (!(await command(n.port, 'CLUSTER INFO', 500)).includes('cluster_state:ok')) {
        if (Date.now() > deadline) throw new Error(`redis cluster node ${n.port} did not reach cluster_state:ok`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes, urls: nodes.map((n) => n.url), stop };
}

async function spawnRedis(port: number, extra: readonly string[] = []): Promise<ChildProcess> {
  const args = ['--save', '', '--appendonly', 'no', '--port', String(port), '--bind', '127.0.0.1', '--daemonize', 'no', '--loglevel', 'warning', ...extra];
  const child = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // Bounded capture of what the server says, for the error message when it does not come up.
  let output = '';
  const keep = (b: Buffer): void => {
    if (output.length < 4096) output += b.toString('utf8');
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // A test process that dies without its after() hooks must not leave servers behind.
  const reap = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', reap);
  child.once('exit', () => process.removeListener('exit', reap));

  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'ENOENT' ? new Error(`${BINARY} not found on PATH: run scripts/ensure-redis.sh`, { cause: err }) : err);
    });
    child.once('exit', (code, signal) => {
      reject(new Error(`redis-server on port ${port} exited early (code ${code}, signal ${signal}): ${output.trim()}`));
    });
  });
  failed.catch(() => undefined); // observed below; a later exit must not be an unhandled rejection
  try {
    await Promise.race([waitForPing(port, READY_TIMEOUT_MS), failed]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return child;
}

/** Runs a command line to completion (bounded), rejecting with its output on a non-zero exit. */
function run(file: string, args: readonly string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err === null) resolve();
      else reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`.slice(0, 4000), { cause: err }));
    });
  });
}

/** One inline command over a raw socket; resolves with the first reply ('' on error or timeout). */
function command(port: number, line: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (out: string): void => {
      socket.destroy();
      resolve(out);
    };
    socket.setTimeout(timeoutMs, () => done(''));
    socket.once('error', () => done(''));
    socket.once('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (b: Buffer) => {
      reply += b.toString('latin1');
      // A bulk reply is `$<len>\r\n<data>\r\n`; anything else is one line.
      const m = /^\$(\d+)\r\n/.exec(reply);
      if (m === null ? reply.includes('\r\n') : reply.length >= m[0].length + Number(m[1]) + 2) done(reply);
    });
  });
}

/** Polls with a raw PING until `+PONG`, so the helper does not depend on the client under test. */
async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ping(port, 250)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
}

async function ping(port: number, timeoutMs: number): Promise<boolean> {
  return (await command(port, 'PING', timeoutMs)).startsWith('+PONG');
}

/** A loopback port nothing listens on right now (for a process the test starts on it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

function onceExit(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
