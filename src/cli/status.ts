/**
 * `tollgate status`: asks a running gateway's admin listener for `/status` and prints each
 * backend's circuit breaker (state, time left, last trip) and recent error rate, and each pool's
 * members. `--json` prints the admin answer as it is.
 * @module
 */
import { parseCommandArgs } from './args.ts';
import { loadConfigFile } from '../config/load.ts';

interface StatusAnswer {
  version: string;
  uptimeSeconds: number;
  ready: boolean;
  inFlight: number;
  backends: Array<{
    id: string;
    url: string;
    health: {
      state: string;
      retryInSeconds: number;
      trips: number;
      lastTrip: { rule: string; reason: string; at: string; until: string } | null;
      recent: { requests: number; failures: number; errorRate: number };
      skippedUntil: string | null;
    };
  }>;
  pools: Array<{ id: string; members: Array<{ id: string; priority: number; weight: number; state: string }> }>;
}

export async function status(args: string[]): Promise<number> {
  const values = parseCommandArgs(args, { admin: { type: 'string' }, 'admin-key': { type: 'string' }, config: { type: 'string', short: 'c' }, json: { type: 'boolean', default: false } });
  let base = values.admin;
  if (base === undefined) {
    // The admin address from the config file, else the default listener.
    const listen = values.config === undefined ? '127.0.0.1:8081' : loadConfigFile(values.config).config.admin.listen;
    base = `http://${listen}`;
  }
  let answer: StatusAnswer;
  try {
    // An admin listener with admin.keys wants one; the environment keeps it out of `ps` output.
    const key = values['admin-key'] ?? process.env['TOLLGATE_ADMIN_KEY'];
    const headers: Record<string, string> = key === undefined || key === '' ? {} : { authorization: `Bearer ${key}` };
    const res = await fetch(new URL('/status', base), { headers, signal: AbortSignal.timeout(5000) });
    if (res.status === 401) throw new Error('HTTP 401: the admin listener needs a key (set TOLLGATE_ADMIN_KEY or --admin-key)');
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    answer = (await res.json()) as StatusAnswer;
  } catch (err) {
    console.error(`tollgate status: cannot read ${base}/status: ${(err as Error).message}`);
    return 1;
  }
  if (values.json) {
    console.log(JSON.stringify(answer, null, 2));
    return 0;
  }
  console.log(`tollgate ${answer.version}: up ${answer.uptimeSeconds} s, ${answer.ready ? 'ready' : 'draining'}, ${answer.inFlight} in flight\n`);
  const rows = answer.backends.map((b) => {
    const h = b.health;
    const trip = h.lastTrip === null ? '-' : `${h.lastTrip.reason} (${h.lastTrip.rule}) at ${h.lastTrip.at}`;
    const errors = `${h.recent.failures}/${h.recent.requests} (${(h.recent.errorRate * 100).toFixed(1)}%)`;
    const state = h.skippedUntil === null ? h.state : `${h.state}, skipped`;
    return [b.id, state, h.retryInSeconds > 0 ? `${h.retryInSeconds} s` : '-', errors, String(h.trips), trip];
  });
  printTable(['BACKEND', 'CIRCUIT', 'RETRY IN', 'ERRORS (1 MIN)', 'TRIPS', 'LAST TRIP'], rows);
  for (const pool of answer.pools) {
    const members = pool.members.map((m) => `${m.id} (priority ${m.priority}, weight ${m.weight}, ${m.state})`);
    console.log(`\npool ${pool.id}:\n  ${members.join('\n  ')}`);
  }
  return 0;
}

/** Left-aligned columns, two spaces apart (shared by the CLI's table printers). */
export function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const row of [head, ...rows]) console.log(row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
}
