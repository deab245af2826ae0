/**
 * The ledger as an operator meets it: `tollgate start --config` with a SQLite ledger, SIGTERM under
 * load (every request the gateway accepted has its row once the process has exited), then
 * `tollgate usage` reading the same file as a table and as JSON, with its usage errors.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { freePort } from '../helpers/redis.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const KEY = 'tg-ledger-cli-key-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'tollgate-ledger-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}): { status: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

test('SIGTERM under load: every accepted request has its ledger row; tollgate usage prints the totals', async () => {
  const [port, admin, simPort] = [await freePort(), await freePort(), await freePort()];
  const config = join(dir, 'tollgate.json');
  writeFileSync(
    config,
    JSON.stringify({
      gateway: { listen: `127.0.0.1:${port}` },
      admin: { listen: `127.0.0.1:${admin}` },
      log: { level: 'warn' },
      simulators: { sim: { port: simPort, tokensPerSecond: 100 } },
      backends: { sim: { url: `http://127.0.0.1:${simPort}/openai` } },
      apis: { openai: { path: '', type: 'openai', backend: 'sim' } },
      products: { starter: { apis: ['openai'] } },
      subscriptions: { 'team-cli': { product: 'starter', keys: [KEY] } },
      // Relative to the config file.
      ledger: { store: 'sqlite', path: 'data/ledger.sqlite' },
    }),
  );
  const child = spawn(process.execPath, [MAIN, 'start', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 20_000;
    while (!out.includes('pid ')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`gateway did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const accepted: string[] = [];
    let stop = false;
    const worker = async (w: number): Promise<void> => {
      while (!stop) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'api-key': KEY, 'content-type': 'application/json', 'x-sim-completion-tokens': '20' },
            body: JSON.stringify({ model: 'gpt-4o-mini', stream: w % 2 === 0, messages: [{ role: 'user', content: 'tick' }] }),
          });
          const id = res.headers.get('x-request-id');
          if (id !== null) accepted.push(id);
          await res.arrayBuffer().catch(() => undefined);
        } catch {
          // Refused once the listener has closed; the workers stop when the process has exited.
          if (child.exitCode !== null) stop = true;
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    };
    const load = Promise.all(Array.from({ length: 10 }, (_, w) => worker(w)));
    while (accepted.length < 150) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, out);
    stop = true;
    await load;
    const db = new DatabaseSync(join(dir, 'data', 'ledger.sqlite'), { readOnly: true });
    const ids = new Set((db.prepare('SELECT request_id FROM usage_ledger').all() as Array<{ request_id: string }>).map((r) => r.request_id));
    const statuses = db.prepare('SELECT status, count(*) AS n FROM usage_ledger GROUP BY status').all();
    // Requests refused while draining (503) are answered before authentication: no subscription.
    const team = (db.prepare("SELECT count(*) AS n FROM usage_ledger WHERE subscription = 'team-cli'").get() as { n: number }).n;
    db.close();
    const missing = accepted.filter((id) => !ids.has(id));
    assert.deepEqual(missing, [], `accepted requests without a row (statuses ${JSON.stringify(statuses)})`);
    assert.ok(ids.size >= accepted.length);

    // The table: one row for the subscription, then the total.
    const table = cli(['usage', '--config', config]);
    assert.equal(table.status, 0, table.err);
    const line = table.out.split('\n').find((l) => l.startsWith('team-cli'));
    assert.ok(line, table.out);
    assert.equal(line.split(/\s+/)[1], String(team));
    assert.match(table.out, /^SUBSCRIPTION\s+REQUESTS\s+PROMPT\s+COMPLETION\s+TOTAL\s+COST \(USD\)$/m);
    assert.match(table.out, /^TOTAL\s+\d+/m);
    // JSON: the admin /usage shape.
    const json = cli(['usage', '--config', config, '--by', 'day', '--since', '1h', '--json']);
    assert.equal(json.status, 0, json.err);
    const answer = JSON.parse(json.out) as { groupBy: string; rows: Array<{ key: string; requests: number; promptTokens: number; completionTokens: number; totalTokens: number; costUsd: number }> };
    assert.equal(answer.groupBy, 'day');
    assert.deepEqual(answer.rows.map((r) => [r.key, r.requests]), [[new Date().toISOString().slice(0, 10), ids.size]]);
    assert.ok((answer.rows[0]?.costUsd ?? 0) > 0, 'gpt-4o-mini is priced by the shipped table');
    // Usage errors exit 2; a missing ledger exits 1.
    assert.equal(cli(['usage', '--config', config, '--by', 'team']).status, 2);
    assert.equal(cli(['usage', '--config', config, '--since', 'last tuesday']).status, 2);
    const none = cli(['usage'], { TOLLGATE_DEMO_LEDGER: join(dir, 'nothing-here.sqlite') });
    assert.equal(none.status, 1);
    assert.match(none.err, /no ledger at/);
    assert.equal(cli(['usage', '--help']).status, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
