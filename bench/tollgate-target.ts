// Starts the real gateway (`node src/cli/main.ts start`) with auth and usage
// extraction on, configured only through its documented config file.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { startChild } from './children.ts';
import type { Child } from './children.ts';

export const BENCH_KEY = 'tg-bench-key-0123456789';
const READY_TIMEOUT_MS = 20_000;

/** Asks the OS for a free loopback port (it could be taken again before use,
 *  which on a benchmark machine is unlikely enough). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = addr !== null && typeof addr === 'object' ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function configYaml(port: number, adminPort: number, backendPort: number): string {
  return `gateway: { listen: 127.0.0.1:${port} }
admin:   { listen: 127.0.0.1:${adminPort} }
namedValues:
  bench-key: { value: "${BENCH_KEY}", secret: true }
backends:
  fixed: { url: "http://127.0.0.1:${backendPort}" }
apis:
  openai: { path: "", type: openai, backend: fixed }
products:
  bench: { apis: [openai] }
subscriptions:
  bench: { product: bench, keys: ["{{bench-key}}"] }
`;
}

async function isReady(url: string): Promise<boolean> {
  try {
    const res = await request(url, { headersTimeout: 1000, bodyTimeout: 1000 });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  }
}

export interface Tollgate {
  child: Child;
  port: number;
  cleanup(): Promise<void>;
}

export async function startTollgate(repoRoot: string, backendPort: number, cpuList?: string): Promise<Tollgate> {
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-bench-'));
  const cleanup = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const [port, adminPort] = [await freePort(), await freePort()];
  const config = join(dir, 'tollgate.yaml');
  await writeFile(config, configYaml(port, adminPort, backendPort));
  const child = startChild('tollgate', ['src/cli/main.ts', 'start', '--config', config], repoRoot, cpuList);

  let exited: string | undefined;
  void child.exited.then((why) => (exited = why));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline && exited === undefined) {
    if (await isReady(`http://127.0.0.1:${adminPort}/ready`)) return { child, port, cleanup };
    await sleep(100);
  }
  child.proc.kill('SIGKILL');
  await cleanup();
  const why = exited === undefined ? `not ready within ${READY_TIMEOUT_MS / 1000} s` : `exited (${exited})`;
  throw new Error(`Tollgate ${why}; its output:\n${child.tail() || '(none)'}`);
}
