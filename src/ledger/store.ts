/**
 * What the ledger keeps per request (one row, keyed by the gateway's request id), and the two
 * stores that keep it (SQLite through node:sqlite, PostgreSQL through pg). Inserting is
 * idempotent: a row whose request id is already there is skipped, so a spool replayed twice never
 * counts a request twice.
 * @module
 */
import type { Usage } from '../core/usage.ts';
import type { Pricing } from './pricing.ts';

export interface LedgerRow {
  readonly requestId: string;
  /** ISO 8601 UTC, as the usage record has it. */
  readonly ts: string;
  readonly subscription: string | null;
  readonly product: string | null;
  readonly api: string | null;
  readonly operation: string | null;
  readonly deployment: string | null;
  readonly model: string | null;
  readonly backend: string | null;
  readonly status: number;
  readonly streamed: boolean;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
  readonly cachedTokens: number;
  readonly reasoningTokens: number;
  /** `backend` (the backend's report), `estimated` (counted locally: cut stream, client gone), `none`. */
  readonly tokenSource: string;
  readonly cache: string | null;
  readonly latencyMs: number;
  readonly errorCode: string | null;
  readonly costUsd: number;
  readonly clientRequestId: string | null;
}

/** The row of a usage record, priced. A cached answer called no backend: it costs nothing. */
export function rowOf(u: Usage, pricing: Pricing): LedgerRow {
  return {
    requestId: u.requestId,
    ts: u.timestamp,
    subscription: u.subscription,
    product: u.product,
    api: u.api,
    operation: u.operation,
    deployment: u.deployment,
    model: u.model,
    backend: u.backend,
    status: u.status,
    streamed: u.streamed,
    promptTokens: u.promptTokens,
    completionTokens: u.completionTokens,
    totalTokens: u.totalTokens,
    cachedTokens: u.cachedTokens,
    reasoningTokens: u.reasoningTokens,
    tokenSource: u.source,
    cache: u.cache,
    latencyMs: Math.round(u.latencyMs * 1000) / 1000,
    errorCode: u.errorCode,
    costUsd: u.cache === 'hit' ? 0 : pricing.cost(u),
    clientRequestId: u.clientRequestId,
  };
}

export const GROUP_BY = ['subscription', 'product', 'deployment', 'day'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export interface UsageQuery {
  readonly groupBy: GroupBy;
  /** Inclusive lower bound (ISO 8601 UTC), or null. */
  readonly from: string | null;
  /** Exclusive upper bound (ISO 8601 UTC), or null. */
  readonly to: string | null;
  /** Only this subscription's rows (the dashboard's per-subscription series); absent or null: all. */
  readonly subscription?: string | null;
}

export interface UsageRow {
  /** The subscription, product, deployment or UTC day (YYYY-MM-DD); null for none (anonymous calls). */
  readonly key: string | null;
  readonly requests: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
  readonly costUsd: number;
  /** Answers served from the semantic cache (`cache = 'hit'`). */
  readonly cacheHits: number;
  /** Requests answered 429 (token or rate limits, backends out of capacity). */
  readonly throttled: number;
  /** Requests answered 5xx. */
  readonly serverErrors: number;
}

/**
 * The aggregate columns both stores select (same SQL in SQLite and PostgreSQL), in the order
 * `usageRowOf` reads them back.
 */
export const AGGREGATES =
  'COUNT(*) AS requests, SUM(prompt_tokens) AS prompt, SUM(completion_tokens) AS completion, SUM(total_tokens) AS total, ' +
  "SUM(cost_usd) AS cost, SUM(CASE WHEN cache = 'hit' THEN 1 ELSE 0 END) AS cache_hits, " +
  'SUM(CASE WHEN status = 429 THEN 1 ELSE 0 END) AS throttled, SUM(CASE WHEN status >= 500 THEN 1 ELSE 0 END) AS server_errors';

/** One aggregate row as the stores return it (numbers may come back as strings from pg). */
export function usageRowOf(r: Record<string, string | number | null | undefined>): UsageRow {
  return {
    key: r['key'] === null || r['key'] === undefined ? null : String(r['key']),
    requests: Number(r['requests']),
    promptTokens: Number(r['prompt']),
    completionTokens: Number(r['completion']),
    totalTokens: Number(r['total']),
    costUsd: roundUsd(Number(r['cost'])),
    cacheHits: Number(r['cache_hits']),
    throttled: Number(r['throttled']),
    serverErrors: Number(r['server_errors']),
  };
}

export interface LedgerStore {
  /** Inserts the rows; rows whose request id is already stored are skipped. All or nothing. */
  insert(rows: readonly LedgerRow[]): Promise<void>;
  query(q: UsageQuery): Promise<UsageRow[]>;
  close(): Promise<void>;
}

/** The column names, in insert order (both stores use the same schema). */
export const COLUMNS = [
  'request_id',
  'ts',
  'subscription',
  'product',
  'api',
  'operation',
  'deployment',
  'model',
  'backend',
  'status',
  'streamed',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'cached_tokens',
  'reasoning_tokens',
  'token_source',
  'cache',
  'latency_ms',
  'error_code',
  'cost_usd',
  'client_request_id',
] as const;

export function valuesOf(r: LedgerRow): Array<string | number | null> {
  return [
    r.requestId,
    r.ts,
    r.subscription,
    r.product,
    r.api,
    r.operation,
    r.deployment,
    r.model,
    r.backend,
    r.status,
    r.streamed ? 1 : 0,
    r.promptTokens,
    r.completionTokens,
    r.totalTokens,
    r.cachedTokens,
    r.reasoningTokens,
    r.tokenSource,
    r.cache,
    r.latencyMs,
    r.errorCode,
    r.costUsd,
    r.clientRequestId,
  ];
}

/** Rounds a summed cost for output (sums of doubles carry noise past 1e-10). */
export function roundUsd(v: number): number {
  return Math.round(v * 1e10) / 1e10;
}
