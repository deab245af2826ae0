/**
 * The ledger in a SQLite file through node:sqlite: WAL (readers such as `tollgate usage` never
 * block the writer), `BEGIN IMMEDIATE` batches with a busy timeout (several processes may share
 * the file without SQLITE_BUSY surfacing), `synchronous=NORMAL` (sqlite-schema.ts).
 * node:sqlite is synchronous, so what could take long runs off the event loop: a batch whose write
 * lock another process holds waits in a writer thread (sqlite-writer-worker.ts), which also makes
 * every WAL checkpoint, and each usage query scans in a worker thread of its own. A batch that
 * finds the lock free is inserted on the main thread, which costs less. The file is opened
 * on first use and reopened after a failure, so a file that cannot be written (read-only, disk
 * full) is an outage the writer spools through, not a start-up failure.
 * @module
 */
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { AGGREGATES, usageRowOf, type LedgerRow, type LedgerStore, type UsageQuery, type UsageRow } from './store.ts';
import { isBusy, LedgerConnection, openLedgerDb } from './sqlite-schema.ts';
import type { WriterJob, WriterReply, WriterRequest } from './sqlite-writer-worker.ts';
import { startSiblingWorker } from '../util/sibling-worker.ts';

export { PAGE_SIZE } from './sqlite-schema.ts';

/**
 * Rows inserted on the main thread between two checkpoints in the writer thread. A batch of 500
 * rows appends ~10 pages of 16 KiB to the WAL, so 20,000 rows keep it near 7 MB (SQLite's own
 * automatic checkpoint, at 1,000 pages, would let it reach 16 MB).
 */
const CHECKPOINT_ROWS = 20_000;

const GROUP_EXPR: Record<UsageQuery['groupBy'], string> = {
  subscription: 'subscription',
  product: 'product',
  deployment: 'deployment',
  day: 'substr(ts, 1, 10)',
};

export interface SqliteLedgerOptions {
  readonly path: string;
  /** How long a writer waits for another process's lock before failing (the batch is then spooled). */
  readonly busyTimeoutMs: number;
  /** Open read-only (the `tollgate usage` command): no migration, no directory created, no writes. */
  readonly readOnly?: boolean;
}

interface Pending {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

export class SqliteLedgerStore implements LedgerStore {
  readonly #opts: SqliteLedgerOptions;
  /** The main thread's connection: busy timeout 0, no checkpoints (#insertHere). */
  #here: LedgerConnection | null = null;
  #sinceCheckpoint = 0;
  #worker: Worker | null = null;
  /** Inserts posted to the writer thread and not answered yet, by id (answered in order). */
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;

  constructor(opts: SqliteLedgerOptions) {
    this.#opts = opts;
  }

  /**
   * Opens (and migrates) the file now if it exists, for a gateway that is starting: migrating a
   * large version 1 file takes seconds (1 M rows: ~4 s), better spent before the gateway listens
   * than while it serves. A new file is still made by the first insert, and a file that cannot be
   * opened now is left to the first batch (an outage, not a start-up failure).
   */
  openExisting(): void {
    if (this.#opts.readOnly === true || !existsSync(this.#opts.path)) return;
    try {
      openLedgerDb(this.#opts.path, this.#opts.busyTimeoutMs).close();
    } catch {
      // the writer thread will try again, and spool while it fails
    }
  }

  insert(rows: readonly LedgerRow[]): Promise<void> {
    if (this.#opts.readOnly === true) return Promise.reject(new Error('the ledger store is open read-only'));
    try {
      if (this.#insertHere(rows)) return Promise.resolve();
    } catch (err) {
      this.#closeHere();
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return this.#post(rows);
  }

  /**
   * The insert on the main thread when the write lock is free at once (the usual case: ~4 µs CPU
   * per row, where handing the batch to the thread costs more in all: ~1.3 µs to copy it, as much
   * again to read it there, and a second thread contending for a 2-core VM's cores: 0.85 against
   * 0.93 of plain's requests/s in docs/performance.md). False when another connection holds the
   * lock: then the batch goes to the writer thread, which waits for it. The busy timeout here is
   * 0, so the event loop never waits; nor does it checkpoint (autoCheckpoint off): every
   * CHECKPOINT_ROWS rows the writer thread does.
   */
  #insertHere(rows: readonly LedgerRow[]): boolean {
    try {
      this.#here ??= new LedgerConnection(openLedgerDb(this.#opts.path, 0, false));
      this.#here.insert(rows);
    } catch (err) {
      if (!isBusy(err)) throw err;
      // Busy while opening (another process migrating): #here stays null and is opened next time.
      return false;
    }
    this.#sinceCheckpoint += rows.length;
    if (this.#sinceCheckpoint >= CHECKPOINT_ROWS) {
      this.#sinceCheckpoint = 0;
      this.#writer().postMessage({ checkpoint: true } satisfies WriterRequest);
    }
    return true;
  }

  #closeHere(): void {
    this.#here?.close();
    this.#here = null;
  }

  #post(rows: readonly LedgerRow[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = this.#writer();
      const id = ++this.#nextId;
      this.#pending.set(id, { resolve, reject });
      // Held open only while an answer is due: an idle ledger never keeps the process alive.
      if (this.#pending.size === 1) worker.ref();
      try {
        worker.postMessage({ id, rows } satisfies WriterRequest);
      } catch (err) {
        this.#settle(id, err instanceof Error ? err.message : String(err));
      }
    });
  }

  #writer(): Worker {
    if (this.#worker !== null) return this.#worker;
    const job: WriterJob = { path: this.#opts.path, busyTimeoutMs: this.#opts.busyTimeoutMs };
    const worker = startSiblingWorker(import.meta.url, './sqlite-writer-worker.ts', job);
    worker.unref();
    worker.on('message', (m: WriterReply) => this.#settle(m.id, m.error));
    let failure = 'the ledger writer thread stopped';
    worker.on('error', (err: Error) => (failure = `the ledger writer thread failed: ${err.message}`));
    worker.on('exit', () => {
      if (this.#worker === worker) this.#worker = null;
      // Whatever it had not answered failed (the writer spools it); the next insert starts a new thread.
      for (const id of [...this.#pending.keys()]) this.#settle(id, failure);
    });
    this.#worker = worker;
    return worker;
  }

  #settle(id: number, error: string | undefined): void {
    const p = this.#pending.get(id);
    if (p === undefined) return;
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#worker?.unref();
    if (error === undefined) p.resolve();
    else p.reject(new Error(error));
  }

  async query(q: UsageQuery): Promise<UsageRow[]> {
    // A ledger that was never written has no table yet: the writer makes it (as it would anyway).
    if (this.#opts.readOnly !== true) await this.insert([]);
    const where: string[] = [];
    const params: string[] = [];
    if (q.from !== null) {
      where.push('ts >= ?');
      params.push(q.from);
    }
    if (q.to !== null) {
      where.push('ts < ?');
      params.push(q.to);
    }
    if (q.subscription !== undefined && q.subscription !== null) {
      where.push('subscription = ?');
      params.push(q.subscription);
    }
    const key = GROUP_EXPR[q.groupBy];
    const sql =
      `SELECT ${key} AS key, ${AGGREGATES} FROM usage_ledger ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ` +
      `GROUP BY ${key} ORDER BY ${q.groupBy === 'day' ? 'key' : 'cost DESC, requests DESC, key'}`;
    const rows = await runQuery({ path: this.#opts.path, sql, params, busyTimeoutMs: this.#opts.busyTimeoutMs }, this.#opts.busyTimeoutMs);
    return rows.map(usageRowOf);
  }

  /**
   * Ends the writer thread after the inserts already posted (it answers them first, in order).
   * Bounded: a thread still waiting on a lock after the busy timeout and a second is terminated,
   * and what it had not answered is rejected (the ledger writer spools it).
   */
  async close(): Promise<void> {
    this.#closeHere();
    const worker = this.#worker;
    if (worker === null) return;
    worker.ref();
    const exited = once(worker, 'exit');
    worker.postMessage({ close: true } satisfies WriterRequest);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), this.#opts.busyTimeoutMs + 1000)));
    try {
      if ((await Promise.race([exited, late])) === 'late') await worker.terminate();
    } finally {
      clearTimeout(timer);
    }
  }
}

type QueryRow = Record<string, string | number | null | undefined>;

/** One query in a worker thread (sqlite-query-worker.ts), terminated after `timeoutMs`. */
function runQuery(job: { path: string; sql: string; params: string[]; busyTimeoutMs: number }, timeoutMs: number): Promise<QueryRow[]> {
  return new Promise((resolve, reject) => {
    const worker = startSiblingWorker(import.meta.url, './sqlite-query-worker.ts', job);
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`ledger query took longer than ${timeoutMs} ms`));
    }, timeoutMs);
    worker.once('message', (m: { rows?: QueryRow[]; error?: string }) => {
      clearTimeout(timer);
      void worker.terminate();
      if (m.error !== undefined) reject(new Error(m.error));
      else resolve(m.rows ?? []);
    });
    worker.once('error', (err: unknown) => {
      clearTimeout(timer);
      reject(err instanceof Error ? err : new Error(String(err)));
    });
  });
}
