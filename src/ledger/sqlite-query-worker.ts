/**
 * Runs one read-only usage query on the SQLite ledger in a worker thread: node:sqlite is
 * synchronous, and a GROUP BY over a large ledger would otherwise stall the gateway's event loop
 * (every request in flight) for as long as it scans. The parent bounds it with a timeout.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DatabaseSync } from 'node:sqlite';

interface Job {
  readonly path: string;
  readonly sql: string;
  readonly params: string[];
  readonly busyTimeoutMs: number;
}

const job = workerData as Job;
const db = new DatabaseSync(job.path, { readOnly: true, timeout: job.busyTimeoutMs });
try {
  parentPort?.postMessage({ rows: db.prepare(job.sql).all(...job.params) });
} catch (err) {
  parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) });
} finally {
  db.close();
}
