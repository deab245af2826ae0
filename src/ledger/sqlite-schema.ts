/**
 * The SQLite ledger file's schema and how a connection to it is opened: the pragmas, the
 * migrations from older files, the insert. Shared by the store on the main thread and its writer
 * thread (sqlite-writer-worker.ts).
 * @module
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { COLUMNS, valuesOf, type LedgerRow } from './store.ts';

const SCHEMA_VERSION = 2;
/** Page size of a new ledger file (SQLite's default is 4096). */
export const PAGE_SIZE = 16_384;

const COLUMN_DEFS = `request_id TEXT NOT NULL,
    ts TEXT NOT NULL,
    subscription TEXT, product TEXT, api TEXT, operation TEXT, deployment TEXT, model TEXT, backend TEXT,
    status INTEGER NOT NULL, streamed INTEGER NOT NULL,
    prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, total_tokens INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL, reasoning_tokens INTEGER NOT NULL, token_source TEXT NOT NULL,
    cache TEXT, latency_ms REAL NOT NULL, error_code TEXT, cost_usd REAL NOT NULL, client_request_id TEXT`;

/** `MIGRATIONS[v]` takes a file from `user_version` v to v + 1. */
const MIGRATIONS: readonly string[] = [
  // v1: keyed by request id, with an index on ts for time ranges.
  `CREATE TABLE IF NOT EXISTS usage_ledger (${COLUMN_DEFS.replace('request_id TEXT NOT NULL', 'request_id TEXT PRIMARY KEY NOT NULL')}) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS usage_ledger_ts ON usage_ledger (ts);`,
  // v2: one B-tree instead of two. Keyed by (ts, request_id), a row is stored in time order (each
  // batch appends at the right edge, and a time range is a range of the table itself), and no
  // separate ts index is written per row: 5.7 → 4.3 µs CPU per row inserted (docs/metering.md).
  // Still idempotent by request id: a row is written (late) and spooled, or replayed twice, as
  // the same row with the same ts, and request ids are the gateway's own UUIDs, unique per request.
  // The rows are copied in ts order (through the v1 index), once, when a v1 file is first opened.
  `CREATE TABLE usage_ledger_v2 (${COLUMN_DEFS}, PRIMARY KEY (ts, request_id)) WITHOUT ROWID;
  INSERT INTO usage_ledger_v2 (${COLUMNS.join(', ')}) SELECT ${COLUMNS.join(', ')} FROM usage_ledger ORDER BY ts, request_id;
  DROP TABLE usage_ledger;
  ALTER TABLE usage_ledger_v2 RENAME TO usage_ledger;`,
];

/** One row; a row whose (ts, request id) is stored already is skipped (replays are idempotent). */
const INSERT_SQL = `INSERT INTO usage_ledger (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (ts, request_id) DO NOTHING`;

/**
 * Opens the file for writing (made, with its directory, when missing), in WAL mode, migrated to
 * this gateway's schema. WAL: readers such as `tollgate usage` never block the writer.
 * `synchronous=NORMAL`: a committed batch survives a crash of the process; a power cut may lose
 * the last batches (SQLite's WAL trade-off). `busyTimeoutMs` is how long a statement waits for
 * another process's lock before it fails.
 */
export function openLedgerDb(path: string, busyTimeoutMs: number, autoCheckpoint = true): DatabaseSync {
  mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path, { timeout: busyTimeoutMs });
  try {
    // 16 KiB pages for a new file (before WAL mode writes its header; an existing file keeps its
    // own): an insert splits and rebalances a quarter as many pages, and a batch's commit writes
    // fewer WAL frames: 4.39 → 4.02 µs CPU per row inserted, in process (docs/metering.md).
    // Without autoCheckpoint, commits on this connection never copy the WAL back and fsync:
    // someone else checkpoints (sqlite-store.ts: the writer thread).
    db.exec(`PRAGMA page_size = ${PAGE_SIZE}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;${autoCheckpoint ? '' : ' PRAGMA wal_autocheckpoint = 0;'}`);
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * Applies the migrations past the file's `user_version`, each in its own transaction. The version
 * is read again under the write lock: another process starting on the same file may have applied
 * the migration while this one waited (version 2 copies the whole table: not to be done twice).
 */
function migrate(db: DatabaseSync): void {
  const version = (): number => (db.prepare('PRAGMA user_version').get() as { user_version: number } | undefined)?.user_version ?? 0;
  const current = version();
  if (current > SCHEMA_VERSION) throw new Error(`ledger file schema version ${current} is newer than this gateway's (${SCHEMA_VERSION})`);
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.exec('BEGIN IMMEDIATE');
    try {
      const now = version();
      if (now > SCHEMA_VERSION) throw new Error(`ledger file schema version ${now} is newer than this gateway's (${SCHEMA_VERSION})`);
      if (now > v) {
        // Done by another process meanwhile.
        db.exec('COMMIT');
        v = now - 1;
        continue;
      }
      db.exec(MIGRATIONS[v] as string);
      db.exec(`PRAGMA user_version = ${v + 1}`);
      db.exec('COMMIT');
    } catch (err) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw err;
    }
  }
  // This connection may still hold the schema it read before another process migrated the file:
  // a statement prepared against that copy fails at prepare time ("ON CONFLICT clause does not
  // match", from v1's key) instead of being re-prepared. Running a read of the table checks the
  // schema cookie and reloads the schema if it changed, so the insert is prepared against v2.
  db.prepare('SELECT 1 FROM usage_ledger LIMIT 0').all();
}

/** A connection and its prepared insert. */
export class LedgerConnection {
  readonly db: DatabaseSync;
  readonly #insert: StatementSync;

  constructor(db: DatabaseSync) {
    this.db = db;
    this.#insert = db.prepare(INSERT_SQL);
  }

  /**
   * The rows in one transaction (`BEGIN IMMEDIATE`: the write lock first, so no upgrade deadlock).
   * No rows, no transaction: an empty insert only opens the file (a usage query's first use).
   */
  insert(rows: readonly LedgerRow[]): void {
    if (rows.length === 0) return;
    const db = this.db;
    db.exec('BEGIN IMMEDIATE');
    try {
      for (const r of rows) this.#insert.run(...valuesOf(r));
      db.exec('COMMIT');
    } catch (err) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw err;
    }
  }

  close(): void {
    try {
      this.db.close();
    } catch {
      // already closed or unusable: nothing to release
    }
  }
}

/** SQLITE_BUSY or SQLITE_LOCKED (extended codes included): another connection holds the lock. */
export function isBusy(err: unknown): boolean {
  const code = (err as { errcode?: unknown } | null)?.errcode;
  return typeof code === 'number' && ((code & 0xff) === 5 || (code & 0xff) === 6);
}
