/**
 * The ledger in PostgreSQL (the `pg` package), for replicas sharing one ledger. Migrations run
 * before the first insert or query (under an advisory lock, so replicas starting together do not
 * race), and again after a failure, so a database that is down at start is an outage the writer
 * spools through, not a start-up failure. Every query has a timeout (`timeoutMs`): connecting,
 * the statement on the server, and the client's wait.
 * @module
 */
import pg from 'pg';
import { AGGREGATES, COLUMNS, usageRowOf, valuesOf, type LedgerRow, type LedgerStore, type UsageQuery, type UsageRow } from './store.ts';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS usage_ledger (
    request_id TEXT PRIMARY KEY,
    ts TIMESTAMPTZ NOT NULL,
    subscription TEXT, product TEXT, api TEXT, operation TEXT, deployment TEXT, model TEXT, backend TEXT,
    status INTEGER NOT NULL, streamed SMALLINT NOT NULL,
    prompt_tokens BIGINT NOT NULL, completion_tokens BIGINT NOT NULL, total_tokens BIGINT NOT NULL,
    cached_tokens BIGINT NOT NULL, reasoning_tokens BIGINT NOT NULL, token_source TEXT NOT NULL,
    cache TEXT, latency_ms DOUBLE PRECISION NOT NULL, error_code TEXT, cost_usd NUMERIC(20, 10) NOT NULL, client_request_id TEXT
  );
  CREATE INDEX IF NOT EXISTS usage_ledger_ts ON usage_ledger (ts);`,
];

/** Arbitrary constant: the advisory lock every Tollgate replica takes while migrating. */
const MIGRATION_LOCK = 7_463_421_001;

const GROUP_EXPR: Record<UsageQuery['groupBy'], string> = {
  subscription: 'subscription',
  product: 'product',
  deployment: 'deployment',
  day: `to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
};

export interface PostgresLedgerOptions {
  readonly url: string;
  readonly timeoutMs: number;
  /** Connection errors (an idle connection dropped by a restarting server): logged, never thrown. */
  readonly onError: (err: Error) => void;
}

export class PostgresLedgerStore implements LedgerStore {
  readonly #pool: pg.Pool;
  #migrated: Promise<void> | null = null;

  constructor(opts: PostgresLedgerOptions) {
    this.#pool = new pg.Pool({
      connectionString: opts.url,
      max: 4,
      connectionTimeoutMillis: opts.timeoutMs,
      query_timeout: opts.timeoutMs,
      statement_timeout: opts.timeoutMs,
      idleTimeoutMillis: 30_000,
      application_name: 'tollgate-ledger',
    });
    // Without a listener an idle client's error (the server restarting) would crash the process.
    this.#pool.on('error', (err) => opts.onError(err));
  }

  #ready(): Promise<void> {
    this.#migrated ??= this.#migrate().catch((err: unknown) => {
      this.#migrated = null;
      throw err;
    });
    return this.#migrated;
  }

  async #migrate(): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query('CREATE TABLE IF NOT EXISTS tollgate_schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
      const done = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM tollgate_schema_migrations');
      const current = done.rows[0]?.v ?? 0;
      for (let v = current; v < MIGRATIONS.length; v++) {
        await client.query(MIGRATIONS[v] as string);
        await client.query('INSERT INTO tollgate_schema_migrations (version) VALUES ($1)', [v + 1]);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async insert(rows: readonly LedgerRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#ready();
    const params: Array<string | number | null> = [];
    const tuples: string[] = [];
    for (const r of rows) {
      const base = params.length;
      params.push(...valuesOf(r));
      tuples.push(`(${COLUMNS.map((_, i) => `$${base + i + 1}`).join(', ')})`);
    }
    // One statement: all the rows or none. Re-inserting a request id is a no-op (replays).
    await this.#pool.query(`INSERT INTO usage_ledger (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (request_id) DO NOTHING`, params);
  }

  async query(q: UsageQuery): Promise<UsageRow[]> {
    await this.#ready();
    const where: string[] = [];
    const params: string[] = [];
    if (q.from !== null) {
      params.push(q.from);
      where.push(`ts >= $${params.length}`);
    }
    if (q.to !== null) {
      params.push(q.to);
      where.push(`ts < $${params.length}`);
    }
    if (q.subscription !== undefined && q.subscription !== null) {
      params.push(q.subscription);
      where.push(`subscription = $${params.length}`);
    }
    const key = GROUP_EXPR[q.groupBy];
    const sql =
      `SELECT ${key} AS key, ${AGGREGATES} FROM usage_ledger ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ` +
      `GROUP BY 1 ORDER BY ${q.groupBy === 'day' ? '1' : '6 DESC, 2 DESC, 1'}`;
    const res = await this.#pool.query<Record<string, string | null>>(sql, params);
    return res.rows.map(usageRowOf);
  }

  async close(): Promise<void> {
    await this.#pool.end().catch(() => undefined);
  }
}
