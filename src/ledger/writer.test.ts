import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerSpool } from './spool.ts';
import { LedgerWriter } from './writer.ts';
import type { LedgerRow, LedgerStore } from './store.ts';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-ledger-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function row(i: number): LedgerRow {
  return {
    requestId: `req-${i}`,
    ts: new Date(0).toISOString(),
    subscription: 's',
    product: 'p',
    api: 'a',
    operation: 'o',
    deployment: 'd',
    model: 'm',
    backend: 'b',
    status: 200,
    streamed: false,
    promptTokens: 1,
    completionTokens: 1,
    totalTokens: 2,
    cachedTokens: 0,
    reasoningTokens: 0,
    tokenSource: 'backend',
    cache: null,
    latencyMs: 1,
    errorCode: null,
    costUsd: 0,
    clientRequestId: null,
  };
}

/** A store that keeps rows by request id (idempotent, like the real ones) and can be switched off. */
class FakeStore implements LedgerStore {
  readonly rows = new Map<string, LedgerRow>();
  inserts = 0;
  down = false;
  insert(rows: readonly LedgerRow[]): Promise<void> {
    this.inserts++;
    if (this.down) return Promise.reject(new Error('database down'));
    for (const r of rows) if (!this.rows.has(r.requestId)) this.rows.set(r.requestId, r);
    return Promise.resolve();
  }
  query(): Promise<never[]> {
    return Promise.resolve([]);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function writer(store: LedgerStore, spool: LedgerSpool, dropped: number[] = []): LedgerWriter {
  const quiet = { failure: () => undefined, success: () => undefined };
  return new LedgerWriter({ store, spool, batchSize: 10, flushIntervalMs: 5, maxQueue: 1000, timeoutMs: 1000, retryMs: 60_000, outage: quiet, onDropped: (n) => dropped.push(n), onReplayed: () => undefined });
}

test('batches are written in order; a failing store spools them, and close replays once it answers', async () => {
  const store = new FakeStore();
  const spool = new LedgerSpool(join(dir, 'a.jsonl'), 1 << 20);
  const w = writer(store, spool);
  for (let i = 0; i < 25; i++) w.add(row(i));
  await w.flush();
  assert.equal(store.rows.size, 25);
  store.down = true;
  for (let i = 25; i < 60; i++) w.add(row(i));
  await w.flush();
  assert.equal(w.stats.spooled, 35);
  assert.ok(spool.bytes > 0);
  store.down = false;
  await w.close();
  assert.equal(store.rows.size, 60);
  assert.equal(spool.bytes, 0);
  assert.deepEqual(w.stats, { written: 25, spooled: 35, replayed: 35, dropped: 0 });
});

test('a spool left by an earlier run is replayed at start; a line cut by a crash is skipped', async () => {
  const path = join(dir, 'b.jsonl');
  appendFileSync(path, `${JSON.stringify(row(1))}\n${JSON.stringify(row(2))}\n{"requestId":"req-3","ts":"19`);
  const store = new FakeStore();
  const w = writer(store, new LedgerSpool(path, 1 << 20));
  await w.close();
  assert.deepEqual([...store.rows.keys()].sort(), ['req-1', 'req-2']);
  assert.equal(readFileSync(path, 'utf8'), '');
});

test('the spool is bounded: rows past maxSpoolBytes are dropped and reported', async () => {
  const store = new FakeStore();
  store.down = true;
  const line = Buffer.byteLength(`${JSON.stringify(row(0))}\n`);
  const dropped: number[] = [];
  const w = writer(store, new LedgerSpool(join(dir, 'c.jsonl'), line * 3 + 10), dropped);
  for (let i = 0; i < 10; i++) w.add(row(i));
  await w.close();
  assert.equal(w.stats.spooled, 3);
  assert.equal(w.stats.dropped, 7);
  assert.equal(dropped.reduce((a, b) => a + b, 0), 7);
});

test('the add that fills a batch does not run the insert itself: it follows on the next turn of the event loop', async () => {
  const store = new FakeStore();
  const w = writer(store, new LedgerSpool(join(dir, 'd.jsonl'), 1 << 20));
  for (let i = 0; i < 10; i++) w.add(row(i));
  assert.equal(store.inserts, 0, 'a synchronous store (node:sqlite) would insert inside the request that filled the batch');
  await new Promise((r) => setImmediate(r));
  assert.equal(store.inserts, 1);
  assert.equal(store.rows.size, 10);
  await w.close();
});
