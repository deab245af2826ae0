/**
 * Starts a private PostgreSQL for tests: `initdb` into a temporary directory, the server in the
 * foreground as our child on a free 127.0.0.1 port (its socket in the same directory), trust
 * authentication, no fsync. `crash()` plays a database dying mid-load (SIGQUIT: the server and
 * every connection end at once, no checkpoint), `restart()` brings it back on the same port and
 * data. Binaries come from `PG_BIN`, else the newest `/usr/lib/postgresql/<v>/bin` (Debian),
 * else PATH; `scripts/ensure-postgres.sh` installs them on a machine that lacks them. PostgreSQL
 * refuses to run as root: as root, the server runs as the `postgres` user (setpriv).
 * @module
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './redis.ts';

export interface RunningPostgres {
  /** `postgres://tollgate@127.0.0.1:<port>/postgres` */
  readonly url: string;
  /** The server dies at once with every connection (SIGQUIT), as in a crash; waits for the exit. */
  crash(): Promise<void>;
  /** Starts the server again on the same port and data directory; waits until it answers. */
  restart(): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

function binDir(): string {
  const env = process.env['PG_BIN'];
  if (env !== undefined && env !== '') return env;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(root, versions[0], 'bin');
  }
  return '';
}

/** argv run as the `postgres` user when we are root (PostgreSQL refuses root). */
function asServerUser(argv: string[]): string[] {
  if (process.getuid?.() !== 0) return argv;
  const uid = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
  const gid = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
  return ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', ...argv];
}

export async function startPostgres(): Promise<RunningPostgres> {
  const bin = binDir();
  const exe = (name: string): string => (bin === '' ? name : join(bin, name));
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-pg-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const [cmd, ...args] = asServerUser([exe('initdb'), '-D', data, '-A', 'trust', '-U', 'tollgate', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  execFileSync(cmd as string, args, { stdio: 'pipe', timeout: 60_000 });
  const port = await freePort();
  const url = `postgres://tollgate@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | null = null;
  let output = '';

  const spawnServer = async (): Promise<void> => {
    const [c, ...a] = asServerUser([exe('postgres'), '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'full_page_writes=off']);
    const p = spawn(c as string, a, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b: Buffer): void => {
      if (output.length < 8192) output += b.toString('utf8');
    };
    p.stdout?.on('data', keep);
    p.stderr?.on('data', keep);
    child = p;
    const reap = (): void => {
      p.kill('SIGKILL');
    };
    process.once('exit', reap);
    p.once('exit', () => process.removeListener('exit', reap));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (p.exitCode !== null) throw new Error(`postgres exited early: ${output.slice(-2000)}`);
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
      }
      if (Date.now() > deadline) throw new Error(`postgres did not answer within 30 s: ${output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const p = child;
    if (p === null || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill(signal);
    const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await spawnServer();
  } catch (err) {
    await halt('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    crash: () => halt('SIGQUIT'),
    async restart() {
      await halt('SIGQUIT');
      await spawnServer();
    },
    async stop() {
      await halt('SIGQUIT');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
