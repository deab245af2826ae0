import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { PAGE_SIZE, SqliteLedgerStore } from './sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-sqlite-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// One writer process: 5,000 rows in batches of 500 through the store, ids prefixed by its number.
const WRITER = `
import { SqliteLedgerStore } from ${JSON.stringify(join(import.meta.dirname, 'sqlite-store.ts'))};
const [path, w] = process.argv.slice(1);
const store = new SqliteLedgerStore({ path, busyTimeoutMs: 10000 });
for (let b = 0; b < 10; b++) {
  const rows = Array.from({ length: 500 }, (_, i) => ({ requestId: w + '-' + (b * 500 + i), ts: new Date().toISOString(), subscription: 's' + w, product: 'p', api: 'a', operation: 'o', deployment: 'd', model: 'm', backend: 'b', status: 200, streamed: false, promptTokens: 1, completionTokens: 2, totalTokens: 3, cachedTokens: 0, reasoningTokens: 0, tokenSource: 'backend', cache: null, latencyMs: 1, errorCode: null, costUsd: 0.001, clientRequestId: null }));
  await store.insert(rows);
}
await store.close();
`;

test('eight writer processes on one file: every row stored, no SQLITE_BUSY surfaces (WAL, BEGIN IMMEDIATE, busy timeout)', async () => {
  const path = join(dir, 'shared.sqlite');
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, w) =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', WRITER, path, String(w)], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (b: Buffer) => (err += b.toString()));
        child.on('exit', (code) => resolve({ code, err }));
      }),
    ),
  );
  for (const r of results) assert.equal(r.code, 0, r.err);
  const db = new DatabaseSync(path, { readOnly: true });
  const n = (db.prepare('SELECT count(*) AS n, count(DISTINCT subscription) AS subs FROM usage_ledger').get() as { n: number; subs: number });
  db.close();
  assert.deepEqual({ ...n }, { n: 40_000, subs: 8 });
});

test('re-inserting rows is a no-op (idempotent by request id), and queries group and filter by time', async () => {
  const store = new SqliteLedgerStore({ path: join(dir, 'q.sqlite'), busyTimeoutMs: 1000 });
  const row = (id: string, ts: string, sub: string, tokens: number, cost: number) => ({ requestId: id, ts, subscription: sub, product: 'p', api: 'a', operation: 'o', deployment: 'gpt-4o', model: 'gpt-4o', backend: 'b', status: 200, streamed: false, promptTokens: tokens, completionTokens: tokens, totalTokens: 2 * tokens, cachedTokens: 0, reasoningTokens: 0, tokenSource: 'backend', cache: null, latencyMs: 1, errorCode: null, costUsd: cost, clientRequestId: null });
  const rows = [row('1', '2026-01-01T10:00:00.000Z', 'a', 10, 0.1), row('2', '2026-01-02T10:00:00.000Z', 'a', 5, 0.2), row('3', '2026-01-02T11:00:00.000Z', 'b', 1, 0.3)];
  await store.insert(rows);
  await store.insert(rows);
  assert.deepEqual(await store.query({ groupBy: 'subscription', from: null, to: null }), [
    { key: 'a', requests: 2, promptTokens: 15, completionTokens: 15, totalTokens: 30, costUsd: 0.3, cacheHits: 0, throttled: 0, serverErrors: 0 },
    { key: 'b', requests: 1, promptTokens: 1, completionTokens: 1, totalTokens: 2, costUsd: 0.3, cacheHits: 0, throttled: 0, serverErrors: 0 },
  ]);
  assert.deepEqual(
    (await store.query({ groupBy: 'day', from: '2026-01-02T00:00:00.000Z', to: '2026-01-02T10:30:00.000Z' })).map((r) => [r.key, r.requests]),
    [['2026-01-02', 1]],
  );
  await store.close();
});

test('queries count cache hits, 429s and 5xx per group, and filter by subscription', async () => {
  const store = new SqliteLedgerStore({ path: join(dir, 'counts.sqlite'), busyTimeoutMs: 1000 });
  const row = (id: string, day: string, sub: string, status: number, cache: string | null) => ({ requestId: id, ts: `${day}T10:00:00.000Z`, subscription: sub, product: 'p', api: 'a', operation: 'o', deployment: 'gpt-4o', model: 'gpt-4o', backend: 'b', status, streamed: false, promptTokens: 1, completionTokens: 1, totalTokens: 2, cachedTokens: 0, reasoningTokens: 0, tokenSource: 'backend', cache, latencyMs: 1, errorCode: null, costUsd: 0, clientRequestId: null });
  await store.insert([
    row('1', '2026-01-01', 'a', 200, 'hit'),
    row('2', '2026-01-01', 'a', 200, 'miss'),
    row('3', '2026-01-02', 'a', 429, null),
    row('4', '2026-01-02', 'a', 502, null),
    row('5', '2026-01-02', 'b', 500, null),
    row('6', '2026-01-03', 'b', 200, 'hit'),
  ]);
  const counts = (rs: Array<{ key: string | null; requests: number; cacheHits: number; throttled: number; serverErrors: number }>) => rs.map((r) => [r.key, r.requests, r.cacheHits, r.throttled, r.serverErrors]);
  assert.deepEqual(counts(await store.query({ groupBy: 'day', from: null, to: null, subscription: 'a' })), [
    ['2026-01-01', 2, 1, 0, 0],
    ['2026-01-02', 2, 0, 1, 1],
  ]);
  assert.deepEqual(counts(await store.query({ groupBy: 'day', from: null, to: null })), [
    ['2026-01-01', 2, 1, 0, 0],
    ['2026-01-02', 3, 0, 1, 2],
    ['2026-01-03', 1, 1, 0, 0],
  ]);
  assert.deepEqual(await store.query({ groupBy: 'subscription', from: null, to: null, subscription: 'nobody' }), []);
  await store.close();
});

test('a new ledger file gets 16 KiB pages; a file made with 4 KiB pages keeps them and still takes rows', async () => {
  const row = (id: string) => ({ requestId: id, ts: '2026-01-01T10:00:00.000Z', subscription: 's', product: 'p', api: 'a', operation: 'o', deployment: 'd', model: 'm', backend: 'b', status: 200, streamed: false, promptTokens: 1, completionTokens: 1, totalTokens: 2, cachedTokens: 0, reasoningTokens: 0, tokenSource: 'backend', cache: null, latencyMs: 1, errorCode: null, costUsd: 0, clientRequestId: null });
  const pageSize = (path: string): number => {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      return (db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size;
    } finally {
      db.close();
    }
  };
  const fresh = join(dir, 'fresh.sqlite');
  const store = new SqliteLedgerStore({ path: fresh, busyTimeoutMs: 1000 });
  await store.insert([row('1')]);
  await store.close();
  assert.equal(pageSize(fresh), PAGE_SIZE);
  assert.equal(PAGE_SIZE, 16_384);

  const old = join(dir, 'old-pages.sqlite');
  const made = new DatabaseSync(old);
  made.exec('PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE t (x)');
  made.close();
  const reopened = new SqliteLedgerStore({ path: old, busyTimeoutMs: 1000 });
  await reopened.insert([row('1'), row('2')]);
  await reopened.close();
  assert.equal(pageSize(old), 4096);
  const db = new DatabaseSync(old, { readOnly: true });
  assert.equal((db.prepare('SELECT count(*) AS n FROM usage_ledger').get() as { n: number }).n, 2);
  db.close();
});
