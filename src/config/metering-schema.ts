/**
 * Config schemas of metering (docs/metering.md): usage loggers, the ledger, prices and budgets.
 * Split from schema.ts, which composes them into the whole configuration.
 * @module
 */
import { z } from 'zod';

const MiB = 1024 * 1024;

/** A spending cap in USD per calendar period (UTC), enforced before the backend is called (docs/metering.md#budgets). */
export const budgetSchema = z.strictObject({
  usd: z.number().positive().max(1e9),
  period: z.enum(['hourly', 'daily', 'weekly', 'monthly', 'yearly']).default('monthly'),
});

/** Bounds shared by every usage logger: its queue, its batches, and how long a drain may take. */
const loggerQueue = {
  /** Messages waiting to be written, at most; past it new ones are dropped (counted, logged once per outage). */
  maxQueue: z.number().int().positive().max(1_000_000).default(10_000),
  /** Messages written in one batch (one file append, one POST, one Redis pipeline). */
  batchSize: z.number().int().positive().max(10_000).default(100),
  /** Longest a message waits for its batch to fill. */
  flushIntervalMs: z.number().int().positive().max(60_000).default(1000),
  /** Retries of a batch that failed to write (network, 5xx, 429, I/O error); then it is dropped and counted. */
  maxRetries: z.number().int().min(0).max(20).default(3),
  /** First retry's wait; it doubles per retry (with jitter), capped at 30 s. */
  retryBackoffMs: z.number().int().positive().max(60_000).default(500),
  description: z.string().optional(),
};

/**
 * Sinks named by `log-to-eventhub logger-id` (docs/metering.md "Loggers"). Each writes off
 * the request path through a bounded queue, drained on shutdown; a sink that cannot write is
 * reported once per outage and never fails a request.
 */
export const loggerSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('stdout'), ...loggerQueue }),
  z.strictObject({
    type: z.literal('file'),
    /** JSON lines appended to this file. */
    path: z.string().min(1),
    /** Size at which the file is rotated (path → path.1 → … → path.<maxFiles>). */
    maxBytes: z.number().int().min(1024).max(64 * 1024 * MiB).default(100 * MiB),
    /** Rotated files kept besides the current one. */
    maxFiles: z.number().int().min(0).max(1000).default(5),
    ...loggerQueue,
  }),
  z.strictObject({
    type: z.literal('http'),
    /** Batches are POSTed here as a JSON array; the target passes the outbound guard (outbound.allowPrivateNetworks). */
    url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
    /** Sent with every POST (use secret named values for credentials: `{{name}}`). */
    headers: z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'invalid header name'), z.string()).default({}),
    /** One POST's timeout. */
    timeoutMs: z.number().int().positive().max(120_000).default(5000),
    ...loggerQueue,
  }),
  z.strictObject({
    type: z.literal('redis-stream'),
    /** `redis://[user:password@]host:port[/db]` (use a named value for the password). */
    url: z.string().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL'),
    /** The stream key messages are XADDed to (field `message`). */
    stream: z.string().min(1).max(1024),
    /** Approximate cap on the stream's length (XADD MAXLEN ~). */
    maxLen: z.number().int().positive().max(1_000_000_000).default(100_000),
    /** Timeout of every Redis command. */
    commandTimeoutMs: z.number().int().positive().max(60_000).default(2000),
    ...loggerQueue,
  }),
]);
export type LoggerConfig = z.output<typeof loggerSchema>;

/** USD per 1M tokens for one model (docs/metering.md#cost). */
export const modelPriceSchema = z.strictObject({
  input: z.number().min(0).max(1e6),
  output: z.number().min(0).max(1e6),
  cachedInput: z.number().min(0).max(1e6).optional(),
});

const ledgerCommon = {
  /** The spool for rows the database cannot take (an outage): default next to the SQLite file, or `tollgate-ledger.spool.jsonl` beside the config file. */
  spoolPath: z.string().min(1).optional(),
  /** The spool's size cap; past it rows are dropped with an error line. */
  maxSpoolBytes: z.number().int().positive().max(64 * 1024 * MiB).default(256 * MiB),
  /** Rows per insert. */
  batchSize: z.number().int().positive().max(2000).default(500),
  /** Longest a row waits in memory before its batch is written. */
  flushIntervalMs: z.number().int().positive().max(60_000).default(500),
  /** Rows waiting in memory at most; past it rows go to the spool at once. */
  maxQueue: z.number().int().positive().max(1_000_000).default(50_000),
  /** Timeout of every database call (connect, insert, query); a batch that takes longer is spooled. */
  timeoutMs: z.number().int().positive().max(600_000).default(5000),
  /** After a database failure, how long rows go to the spool before the database is tried again. */
  retryMs: z.number().int().positive().max(3_600_000).default(2000),
};

/** The durable usage ledger (docs/metering.md#ledger). */
export const ledgerSchema = z.discriminatedUnion('store', [
  z.strictObject({ store: z.literal('sqlite'), /** The SQLite file (relative to the config file). */ path: z.string().min(1), ...ledgerCommon }),
  z.strictObject({ store: z.literal('postgres'), /** `postgres://user:password@host:port/db` (use a named value for the password). */ url: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// or postgresql:// URL'), ...ledgerCommon }),
  z.strictObject({ store: z.literal('off') }),
]);

export type LedgerConfig = z.output<typeof ledgerSchema>;
export type BudgetConfig = z.output<typeof budgetSchema>;
