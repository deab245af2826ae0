import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { PAGE_SIZE, SqliteLedgerStore } from './sqlite-store.ts';
import type { LedgerRow } from './store.ts';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-sqlite-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// One writer process: 5,000 rows in batches of 500 through the store, ids prefixed by its number.
const WRITER = `
import { SqliteLedgerStore } from ${JSON.stringify(join(import.meta.dirname, 'sqlite-store.ts'))};
const [path, w] = process.argv.slice(1);
const store = new SqliteLedgerStore({ path, busyTimeoutMs: 10000 });
process.stdout.write('ready\\n');
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

/** A version 1 ledger file with three rows, its schema exactly as the v1 gateway made it. */
function makeV1(path: string): void {
  const v1 = new DatabaseSync(path);
  v1.exec(`PRAGMA journal_mode = WAL;
  CREATE TABLE IF NOT EXISTS usage_ledger (
    request_id TEXT PRIMARY KEY NOT NULL,
    ts TEXT NOT NULL,
    subscription TEXT, product TEXT, api TEXT, operation TEXT, deployment TEXT, model TEXT, backend TEXT,
    status INTEGER NOT NULL, streamed INTEGER NOT NULL,
    prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, total_tokens INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL, reasoning_tokens INTEGER NOT NULL, token_source TEXT NOT NULL,
    cache TEXT, latency_ms REAL NOT NULL, error_code TEXT, cost_usd REAL NOT NULL, client_request_id TEXT
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS usage_ledger_ts ON usage_ledger (ts);
  PRAGMA user_version = 1;`);
  const old = v1.prepare('INSERT INTO usage_ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  old.run('r1', '2026-01-01T10:00:00.000Z', 'a', 'p', 'api', 'op', 'gpt-4o', 'gpt-4o', 'b', 200, 0, 10, 10, 20, 2, 1, 'backend', null, 12.5, null, 0.1, 'client-1');
  old.run('r2', '2026-01-02T10:00:00.000Z', 'a', 'p', 'api', 'op', 'gpt-4o', 'gpt-4o', 'b', 429, 1, 0, 0, 0, 0, 0, 'none', 'miss', 3, 'GW_ERR_RATE_LIMITED', 0, null);
  old.run('r0', '2026-01-02T09:00:00.000Z', null, null, null, null, null, null, null, 401, 0, 0, 0, 0, 0, 0, 'none', null, 1, 'GW_ERR_UNAUTHORIZED', 0, null);
  v1.close();
}

test('a v1 ledger file (keyed by request id, ts index) is migrated when first opened: rows kept, queries right, new rows taken once', async () => {
  const path = join(dir, 'v1.sqlite');
  makeV1(path);

  const store = new SqliteLedgerStore({ path, busyTimeoutMs: 1000 });
  const row = (id: string, ts: string) => ({ requestId: id, ts, subscription: 'b', product: 'p', api: 'api', operation: 'op', deployment: 'gpt-4o', model: 'gpt-4o', backend: 'b', status: 200, streamed: false, promptTokens: 1, completionTokens: 1, totalTokens: 2, cachedTokens: 0, reasoningTokens: 0, tokenSource: 'backend', cache: 'hit', latencyMs: 1, errorCode: null, costUsd: 0.3, clientRequestId: null });
  await store.insert([row('r3', '2026-01-02T11:00:00.000Z')]);
  await store.insert([row('r3', '2026-01-02T11:00:00.000Z')]);
  const counts = (rs: Array<{ key: string | null; requests: number; totalTokens: number; costUsd: number; cacheHits: number; throttled: number }>) => rs.map((r) => [r.key, r.requests, r.totalTokens, r.costUsd, r.cacheHits, r.throttled]);
  assert.deepEqual(counts(await store.query({ groupBy: 'subscription', from: null, to: null })), [
    ['b', 1, 2, 0.3, 1, 0],
    ['a', 2, 20, 0.1, 0, 1],
    [null, 1, 0, 0, 0, 0],
  ]);
  assert.deepEqual(counts(await store.query({ groupBy: 'day', from: '2026-01-02T09:30:00.000Z', to: '2026-01-02T11:00:00.000Z' })), [['2026-01-02', 1, 0, 0, 0, 1]]);
  await store.close();

  const db = new DatabaseSync(path, { readOnly: true });
  try {
    assert.equal((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, 2);
    // Every v1 value came across unchanged.
    const r1 = db.prepare("SELECT * FROM usage_ledger WHERE request_id = 'r1'").get();
    assert.deepEqual({ ...r1 }, {
      request_id: 'r1', ts: '2026-01-01T10:00:00.000Z', subscription: 'a', product: 'p', api: 'api', operation: 'op', deployment: 'gpt-4o', model: 'gpt-4o', backend: 'b',
      status: 200, streamed: 0, prompt_tokens: 10, completion_tokens: 10, total_tokens: 20, cached_tokens: 2, reasoning_tokens: 1, token_source: 'backend',
      cache: null, latency_ms: 12.5, error_code: null, cost_usd: 0.1, client_request_id: 'client-1',
    });
    // Stored in time order, one B-tree: the v1 index is gone with the v1 table.
    assert.deepEqual(db.prepare('SELECT request_id FROM usage_ledger').all().map((r) => r['request_id']), ['r1', 'r0', 'r2', 'r3']);
    assert.deepEqual(db.prepare("SELECT name FROM sqlite_schema WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%'").all().map((r) => r['name']), ['usage_ledger']);
  } finally {
    db.close();
  }
});

test('a ledger file from a newer gateway is refused, not misread', async () => {
  const path = join(dir, 'newer.sqlite');
  const made = new DatabaseSync(path);
  made.exec('PRAGMA user_version = 99');
  made.close();
  const store = new SqliteLedgerStore({ path, busyTimeoutMs: 1000 });
  await assert.rejects(store.insert([]), /schema version 99 is newer/);
  await store.close();
});

test('a starting gateway migrates an existing v1 file before traffic (openExisting), and makes no file where there is none', async () => {
  const path = join(dir, 'v1-at-start.sqlite');
  makeV1(path);
  const store = new SqliteLedgerStore({ path, busyTimeoutMs: 1000 });
  store.openExisting();
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    assert.equal((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, 2);
    assert.equal((db.prepare('SELECT count(*) AS n FROM usage_ledger').get() as { n: number }).n, 3);
  } finally {
    db.close();
  }
  await store.close();
  const none = join(dir, 'not-yet', 'ledger.sqlite');
  const fresh = new SqliteLedgerStore({ path: none, busyTimeoutMs: 1000 });
  fresh.openExisting();
  await fresh.close();
  assert.equal(existsSync(none), false);
});

test('four processes opening one v1 file at once: it is migrated once, every row kept, and the ones that waited insert into v2', async () => {
  const path = join(dir, 'v1-shared.sqlite');
  makeV1(path);
  // Hold the write lock until every writer has started its first insert, so all four read
  // version 1 before one of them can migrate: the other three wait, find version 2 under the
  // lock, and must then prepare their insert against v2's key, not the v1 schema they read first.
  const lock = new DatabaseSync(path, { timeout: 10_000 });
  lock.exec('BEGIN IMMEDIATE');
  let ready = 0;
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    lock.exec('COMMIT');
    lock.close();
  };
  const results = await Promise.all(
    Array.from({ length: 4 }, (_, w) =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', WRITER, path, `v1w${w}`], { stdio: ['ignore', 'pipe', 'pipe'] });
        let err = '';
        child.stdout.once('data', () => {
          if (++ready === 4) setTimeout(release, 300);
        });
        child.stderr.on('data', (b: Buffer) => (err += b.toString()));
        child.on('exit', (code) => {
          release();
          resolve({ code, err });
        });
      }),
    ),
  );
  for (const r of results) assert.equal(r.code, 0, r.err);
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    assert.equal((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, 2);
    assert.equal((db.prepare('SELECT count(*) AS n FROM usage_ledger').get() as { n: number }).n, 3 + 4 * 5_000);
    assert.equal((db.prepare("SELECT count(*) AS n FROM usage_ledger WHERE request_id IN ('r0', 'r1', 'r2')").get() as { n: number }).n, 3);
  } finally {
    db.close();
  }
});

/** Rows for the bulk tests: request ids `<prefix>-00000000`, `-00000001`, ... stamped now, a typical chat's numbers; `made` counts them. */
function rowMaker(prefix: string): { row: () => LedgerRow; made: () => number } {
  let n = 0;
  const row = (): LedgerRow => ({ requestId: `${prefix}-${String(n++).padStart(8, '0')}`, ts: new Date().toISOString(), subscription: 's', product: 'p', api: 'a', operation: 'o', deployment: 'd', model: 'm', backend: 'b', status: 200, streamed: false, promptTokens: 31, completionTokens: 120, totalTokens: 151, cachedTokens: 0, reasoningTokens: 0, tokenSource: 'backend', cache: null, latencyMs: 12.345, errorCode: null, costUsd: 0.0012, clientRequestId: null });
  return { row, made: () => n };
}

test('the WAL stays bounded while the main thread inserts: the writer thread checkpoints and the log starts over', async () => {
  const path = join(dir, 'wal-bound.sqlite');
  const store = new SqliteLedgerStore({ path, busyTimeoutMs: 5000 });
  const { row } = rowMaker('w');
  let largest = 0;
  // 120,000 rows append ~45 MB of WAL frames; the main thread's connection never checkpoints.
  for (let b = 0; b < 240; b++) {
    await store.insert(Array.from({ length: 500 }, row));
    await new Promise((r) => setImmediate(r));
    largest = Math.max(largest, statSync(`${path}-wal`).size);
  }
  await store.close();
  assert.ok(largest < 16 * 1024 * 1024, `the WAL reached ${(largest / 1048576).toFixed(1)} MiB`);
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    assert.equal((db.prepare('SELECT count(*) AS n FROM usage_ledger').get() as { n: number }).n, 120_000);
  } finally {
    db.close();
  }
});

test('a long reader does not hold the writes: the checkpoint waits for it briefly, not for the busy timeout', async () => {
  const path = join(dir, 'long-reader.sqlite');
  const store = new SqliteLedgerStore({ path, busyTimeoutMs: 3000 });
  const { row, made } = rowMaker('r');
  await store.insert([row()]);
  // A reader in a transaction keeps its snapshot (as a usage query scanning a large ledger does).
  const reader = new DatabaseSync(path, { readOnly: true });
  reader.exec('BEGIN');
  reader.prepare('SELECT count(*) AS n FROM usage_ledger').get();
  let slowest = 0;
  try {
    // 20,000 rows start a checkpoint while the reader holds frames it still needs; the batches
    // of the next second meet it (a batch that finds the write lock taken waits behind it).
    for (let b = 0; b < 40; b++) await store.insert(Array.from({ length: 500 }, row));
    const until = performance.now() + 1000;
    while (performance.now() < until) {
      const started = performance.now();
      await store.insert(Array.from({ length: 50 }, row));
      slowest = Math.max(slowest, performance.now() - started);
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    reader.exec('COMMIT');
    reader.close();
  }
  await store.close();
  // A checkpoint waiting for the reader for the busy timeout held a batch for 3 s.
  assert.ok(slowest < 1500, `a batch waited ${slowest.toFixed(0)} ms`);
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    assert.equal((db.prepare('SELECT count(*) AS n FROM usage_ledger').get() as { n: number }).n, made());
  } finally {
    db.close();
  }
});
