/**
 * What compiled policies may use at run time: injected, never global (tests pass their own).
 * @module
 */
import type { Dispatcher } from 'undici';
import type { BackendPool } from '../upstream/pool.ts';
import type { OutboundClient } from '../upstream/outbound-client.ts';
import type { ValueCache } from '../state/value-cache.ts';
import type { ResponseCaches } from '../cache/services.ts';
import type { LimitStore } from '../state/limit-store.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Logger } from '../observability/logger.ts';
import type { AuthorizationCredentials, IdentityService } from '../identity/service.ts';
import type { LogSink } from '../loggers/log-sink.ts';
import type { ContentSafetyServices } from '../content-safety/services.ts';

export interface PolicyServices {
  /** Every configured backend id: a pool's members, or a single backend as a pool of one. */
  readonly backends: ReadonlyMap<string, BackendPool>;
  /** For `set-backend-service base-url`: a shared keep-alive agent for URLs that are not backends. */
  readonly urlDispatcher: Dispatcher;
  readonly outbound: OutboundClient;
  readonly cache: ValueCache;
  /** The semantic cache and the response cache (src/cache). */
  readonly responseCaches: ResponseCaches;
  /** Counters for the limit policies (memory, or Redis when `state.store: redis`). */
  readonly limits: LimitStore;
  readonly metrics: Metrics;
  /** The usage loggers (`loggers:`) that log-to-eventhub writes to. */
  readonly loggers: { get(id: string): LogSink | undefined };
  readonly logger: Logger;
  readonly maxResponseBytes: number;
  readonly now: () => number;
  /** Wall clock, ms since the epoch (limit windows, quotas); injected in tests. */
  readonly clock: () => number;
  /** Waits `ms`, or rejects when `signal` aborts (a client that leaves ends a retry's back-off). */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Managed-identity and OAuth2 tokens, issuers' signing keys (shared across reloads). */
  readonly identity: IdentityService;
  /** Credential-manager authorizations by provider id, then authorization id (config `authorizations`). */
  readonly authorizations?: ReadonlyMap<string, ReadonlyMap<string, AuthorizationCredentials>>;
  /** Entra ID authority for validate-azure-ad-token (config `identity.authorityHost`, else the service's). */
  readonly entraAuthorityHost: string;
  /** JSON schemas for validate-content `schema-id` (config `schemas`); none when absent. */
  readonly contentSchemas?: ReadonlyMap<string, object>;
  /**
   * Set by a policy that counts prompt tokens as requests come (a token limit: every streamed
   * request, and every request with estimate-prompt-tokens): the gateway then loads the tokenizer's tables before it listens (tokenizer/index.ts
   * preloadEncodings), not on the first such request.
   */
  readonly tokenizerDemand?: { estimates: boolean };
  /** `llm-content-safety` defaults and the local engines (config `contentSafety`). */
  readonly contentSafety: ContentSafetyServices;
}
