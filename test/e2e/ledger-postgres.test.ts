/**
 * The usage ledger on PostgreSQL (a private server started by the test): migrations applied at
 * start, and a database that crashes mid-load and comes back loses no row and doubles none (rows
 * spooled during the outage are replayed, idempotent by the gateway's request id). A second
 * gateway on the same database (another replica, or a restart) migrates nothing twice.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startTestGateway, TEST_KEY, waitFor } from '../helpers/gateway.ts';
import { startPostgres, type RunningPostgres } from '../helpers/postgres.ts';

const headers = { 'api-key': TEST_KEY, 'content-type': 'application/json' };
const body = (stream: boolean): string => JSON.stringify({ model: 'gpt-4o', stream, messages: [{ role: 'user', content: 'Count the tolls on this road.' }] });

async function sql<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text)).rows;
  } finally {
    await c.end();
  }
}

describe('ledger on PostgreSQL', () => {
  let db: RunningPostgres;
  let dir: string;
  before(async () => {
    db = await startPostgres();
    dir = mkdtempSync(join(tmpdir(), 'tollgate-ledger-pg-'));
  });
  after(async () => {
    await db.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a database killed mid-load and restarted: no row lost, none doubled', async () => {
    const t = await startTestGateway({
      logLevel: 'warn',
      config: { ledger: { store: 'postgres', url: db.url, spoolPath: join(dir, 'spool.jsonl'), flushIntervalMs: 20, batchSize: 50, timeoutMs: 1000, retryMs: 200 } },
    });
    try {
      const ids: string[] = [];
      let sent = 0;
      const total = 900;
      const worker = async (): Promise<void> => {
        while (sent < total) {
          const i = sent++;
          const res = await fetch(`${t.url}/v1/chat/completions`, { method: 'POST', headers: i % 10 === 0 ? { ...headers, 'x-sim-fail': '503' } : headers, body: body(i % 3 === 0) });
          await res.arrayBuffer();
          ids.push(res.headers.get('x-request-id') as string);
        }
      };
      const load = Promise.all(Array.from({ length: 8 }, worker));
      await waitFor(() => ids.length >= 300, 60_000, '300 requests');
      await db.crash();
      await waitFor(() => ids.length >= 600, 60_000, '600 requests');
      // Requests went on while the database was down: none failed for it.
      await waitFor(() => (t.gw.ledger?.writer.stats.spooled ?? 0) > 0, 10_000, 'rows spooled');
      await db.restart();
      await load;
      await waitFor(() => t.usages.length === total, 20_000, 'every usage record');
      await waitFor(() => (t.gw.ledger?.writer.stats.replayed ?? 0) > 0, 20_000, 'spool replayed');
      await t.gw.ledger?.writer.flush();
      const rows = await sql<{ request_id: string }>(db.url, 'SELECT request_id FROM usage_ledger');
      assert.equal(rows.length, total, 'one row per request');
      assert.deepEqual(new Set(rows.map((r) => r.request_id)), new Set(ids));
      assert.equal(t.gw.ledger?.writer.stats.dropped, 0);
      const [sums] = await sql<{ n: string; tokens: string }>(db.url, 'SELECT count(*) AS n, sum(total_tokens) AS tokens FROM usage_ledger');
      assert.equal(Number(sums?.tokens), t.usages.reduce((a, u) => a + u.totalTokens, 0));
      assert.ok(t.logs.some((l) => l.includes('ledger postgres store failing')));
      // The admin query reads the same database.
      const res = await fetch(`${t.gw.adminUrl}/usage?groupBy=subscription`);
      const answer = (await res.json()) as { rows: Array<{ key: string; requests: number; totalTokens: number }> };
      assert.deepEqual(answer.rows.map((r) => [r.key, r.requests, r.totalTokens]), [['team-a', total, Number(sums?.tokens)]]);
    } finally {
      await t.close();
    }
    // Another gateway on the same database: the schema is there, nothing is migrated twice.
    const t2 = await startTestGateway({ logLevel: 'warn', config: { ledger: { store: 'postgres', url: db.url, spoolPath: join(dir, 'spool2.jsonl') } } });
    try {
      const res = await fetch(`${t2.url}/v1/chat/completions`, { method: 'POST', headers, body: body(false) });
      await res.arrayBuffer();
      await t2.gw.ledger?.writer.flush();
      const migrations = await sql<{ version: number }>(db.url, 'SELECT version FROM tollgate_schema_migrations');
      assert.deepEqual(migrations.map((m) => m.version), [1]);
      const [n] = await sql<{ n: string }>(db.url, 'SELECT count(*) AS n FROM usage_ledger');
      assert.equal(Number(n?.n), 901);
    } finally {
      await t2.close();
    }
  });
});
