/**
 * The SQLite ledger's writer thread: what the main thread must not wait for. node:sqlite is
 * synchronous, so on the event loop a wait for another process's write lock (up to the busy
 * timeout) or a WAL checkpoint (copying the log back and its `fsync`) would hold every request in
 * flight. The store inserts on the main thread only when the lock is free at once, and hands a
 * batch here when it is not; every checkpoint runs here.
 *
 * Messages in: `{ id, rows }` inserts the rows in one transaction, waiting for the lock (no rows:
 * only opens and migrates the file); `{ checkpoint: true }` copies the WAL back and lets the next
 * insert start it again from its beginning; `{ close: true }` closes the file and ends the thread. Out: `{ id }` or
 * `{ id, error }`, in the order the inserts came.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LedgerConnection, openLedgerDb } from './sqlite-schema.ts';
import type { LedgerRow } from './store.ts';

export interface WriterJob {
  readonly path: string;
  readonly busyTimeoutMs: number;
}

export type WriterRequest = { readonly id: number; readonly rows: readonly LedgerRow[] } | { readonly checkpoint: true } | { readonly close: true };
export interface WriterReply {
  readonly id: number;
  readonly error?: string;
}

const job = workerData as WriterJob;
/** How long a checkpoint waits for the write lock, and then for readers of older frames. */
const CHECKPOINT_BUSY_MS = 50;
let conn: LedgerConnection | null = null;

/** Reopened by the next message: the file may have been replaced, fixed or made writable again. */
function reset(): void {
  conn?.close();
  conn = null;
}

parentPort?.on('message', (m: WriterRequest) => {
  if ('close' in m) {
    reset();
    parentPort?.close();
    return;
  }
  if ('checkpoint' in m) {
    try {
      // RESTART, not PASSIVE: a passive checkpoint runs beside the main thread's inserts, so some
      // frames are always newer than it, and the log is never started again from its beginning
      // (measured: 200,000 rows grew the WAL to 83 MB; with RESTART it stays under 12 MB). RESTART
      // holds the write lock while it copies: a batch in that time finds the lock taken and comes
      // here, after it.
      // Its waits are short (CHECKPOINT_BUSY_MS, not the busy timeout): RESTART keeps the write
      // lock while it waits for readers, and a long reader (a usage query) would otherwise hold
      // every batch for seconds. A checkpoint that cannot finish now is tried at the next call.
      const db = (conn ??= new LedgerConnection(openLedgerDb(job.path, job.busyTimeoutMs))).db;
      db.exec(`PRAGMA busy_timeout = ${CHECKPOINT_BUSY_MS}`);
      try {
        db.exec('PRAGMA wal_checkpoint(RESTART)');
      } finally {
        db.exec(`PRAGMA busy_timeout = ${job.busyTimeoutMs}`);
      }
    } catch {
      // the next one tries again; until then the WAL only grows
      reset();
    }
    return;
  }
  let reply: WriterReply;
  try {
    conn ??= new LedgerConnection(openLedgerDb(job.path, job.busyTimeoutMs));
    conn.insert(m.rows);
    reply = { id: m.id };
  } catch (err) {
    reset();
    reply = { id: m.id, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage(reply);
});
