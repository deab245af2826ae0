// The private redis-server of the `redis` target: started by the bench on a
// free loopback port without persistence (test/helpers/redis.ts), stopped at
// the end. It inherits the bench's CPU affinity, so with pinning it shares
// core 0 with the backend and the load generator, not the gateway's core:
// in production Redis runs on another machine.
import { connect } from 'node:net';
import { startRedis } from '../test/helpers/redis.ts';
import type { RunningRedis } from '../test/helpers/redis.ts';
import { cpuViaProc } from './children.ts';
import type { CpuReader } from './children.ts';

export type { RunningRedis };

export async function startBenchRedis(): Promise<RunningRedis> {
  try {
    return await startRedis();
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    const hint = why.includes('ensure-redis') ? '' : ' (scripts/ensure-redis.sh installs it)';
    throw new Error(`redis-server did not start: ${why.split('\n')[0] ?? ''}${hint}`, { cause: err });
  }
}

/** CPU of the redis-server process from /proc (10 ms ticks: fine over seconds of load). */
export function redisCpu(redis: RunningRedis): CpuReader {
  return { source: 'proc', read: () => Promise.resolve(cpuViaProc(redis.process.pid ?? -1)), rssPeakMb: () => null };
}

/** One inline command over a raw socket (no client library in the way);
 *  resolves with the first reply line, e.g. `:12` for DBSIZE. */
export function redisCommand(port: number, command: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`redis ${command}: no answer within ${timeoutMs} ms`));
    });
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (b: Buffer) => {
      reply += b.toString('latin1');
      const end = reply.indexOf('\r\n');
      if (end < 0) return;
      socket.destroy();
      resolve(reply.slice(0, end));
    });
  });
}

/** Number of keys in Redis: > 0 once the gateway has reserved anything there. */
export async function redisKeys(port: number): Promise<number> {
  const reply = await redisCommand(port, 'DBSIZE');
  const n = /^:(\d+)$/.exec(reply)?.[1];
  if (n === undefined) throw new Error(`redis DBSIZE answered ${reply}`);
  return Number(n);
}
