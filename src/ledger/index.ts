/**
 * The durable usage ledger: a usage-bus subscriber that prices every record and hands it to the
 * writer (a bounded queue, batched inserts off the request path, a spool through outages), plus
 * the query the admin `/usage` endpoint and `tollgate usage` answer from. Built once per process
 * from the configuration it started with (like the limit store); not configured, it is not
 * subscribed at all and costs nothing.
 * @module
 */
import { dirname, resolve } from 'node:path';
import type { Config, LedgerConfig } from '../config/schema.ts';
import type { Usage } from '../core/usage.ts';
import type { Logger } from '../observability/logger.ts';
import { OutageLog } from '../state/outage-log.ts';
import { redactSecrets } from '../secrets/redactor.ts';
import { Pricing } from './pricing.ts';
import { LedgerSpool } from './spool.ts';
import { SqliteLedgerStore } from './sqlite-store.ts';
import type * as PostgresStore from './postgres-store.ts';
import { lazyModule } from '../util/lazy-module.ts';

/** `pg` loads only for `ledger.store: postgres`. */
const postgresStore = lazyModule<typeof PostgresStore>(import.meta.url, './postgres-store.ts');
import { rowOf, type LedgerStore, type UsageQuery, type UsageRow } from './store.ts';
import { LedgerWriter } from './writer.ts';

export type ActiveLedgerConfig = Exclude<LedgerConfig, { store: 'off' }>;

/** Where a ledger is, as the store needs it (a configured ledger is one). */
export type LedgerTarget = { readonly store: 'sqlite'; readonly path: string; readonly timeoutMs: number } | { readonly store: 'postgres'; readonly url: string; readonly timeoutMs: number };

export interface Ledger {
  readonly writer: LedgerWriter;
  readonly pricing: Pricing;
  /** The usage-bus consumer. */
  readonly record: (usage: Usage) => void;
  readonly query: (q: UsageQuery) => Promise<UsageRow[]>;
  /** For the admin /status: the store, rows waiting, written, spooled, replayed, dropped, spool size. */
  readonly status: () => LedgerStatus;
  /** Drains the queue (store or spool), then closes the store. */
  readonly close: () => Promise<void>;
}

/** Prices from the configuration over the shipped table; an unknown model is warned about once. */
export function createPricing(config: Config, logger: Logger): Pricing {
  return new Pricing(config.pricing, (model) => logger.warn({ model }, 'no price for this model: its requests cost 0 in the ledger and budgets (set pricing.<model> in the configuration)'));
}

/** The store a ledger configuration names; paths are relative to the config file. */
export function openLedgerStore(ledger: LedgerTarget, configFile: string | undefined, onError: (err: Error) => void, readOnly = false): LedgerStore {
  if (ledger.store === 'sqlite') {
    const store = new SqliteLedgerStore({ path: ledgerPath(ledger.path, configFile), busyTimeoutMs: ledger.timeoutMs, readOnly });
    store.openExisting();
    return store;
  }
  return new (postgresStore().PostgresLedgerStore)({ url: ledger.url, timeoutMs: ledger.timeoutMs, onError });
}

export function ledgerPath(path: string, configFile: string | undefined): string {
  return resolve(configFile === undefined || configFile.startsWith('<') ? process.cwd() : dirname(resolve(configFile)), path);
}

export interface LedgerStatus {
  readonly store: 'sqlite' | 'postgres';
  readonly pending: number;
  readonly written: number;
  readonly spooled: number;
  readonly replayed: number;
  readonly dropped: number;
  readonly spoolBytes: number;
}

export function createLedger(config: Config, configFile: string | undefined, logger: Logger, pricing: Pricing): Ledger | null {
  const lc = config.ledger;
  if (lc.store === 'off') return null;
  // A database URL may hold a password: only redacted messages reach the log.
  const say = (err: Error): string => redactSecrets(err.message);
  const store = openLedgerStore(lc, configFile, (err) => logger.warn({ ledgerEvent: 'connection', detail: say(err) }, 'ledger database connection error'));
  const spoolPath = lc.spoolPath !== undefined ? ledgerPath(lc.spoolPath, configFile) : lc.store === 'sqlite' ? `${ledgerPath(lc.path, configFile)}.spool.jsonl` : ledgerPath('tollgate-ledger.spool.jsonl', configFile);
  const spool = new LedgerSpool(spoolPath, lc.maxSpoolBytes);
  const outage = new OutageLog({
    component: 'ledger',
    failingMessage: `ledger ${lc.store} store failing; usage rows are spooled to ${spoolPath} and replayed when it recovers`,
    recoveredMessage: `ledger ${lc.store} store recovered`,
    logger,
  });
  const writer = new LedgerWriter({
    store,
    spool,
    batchSize: lc.batchSize,
    flushIntervalMs: lc.flushIntervalMs,
    maxQueue: lc.maxQueue,
    timeoutMs: lc.timeoutMs,
    retryMs: lc.retryMs,
    outage: { failure: (detail: string) => outage.failure(redactSecrets(detail)), success: () => outage.success() },
    onDropped: (count, why) => logger.error({ ledgerEvent: 'dropped', count, why: redactSecrets(why) }, 'usage rows lost: the ledger spool is full or not writable'),
    onReplayed: (count) => logger.info({ ledgerEvent: 'replayed', count }, 'spooled usage rows written to the ledger'),
  });
  return {
    writer,
    pricing,
    record: (usage) => writer.add(rowOf(usage, pricing)),
    query: (q) => store.query(q),
    status: () => ({ store: lc.store, pending: writer.pending, ...writer.stats, spoolBytes: spool.bytes }),
    close: () => writer.close(),
  };
}
