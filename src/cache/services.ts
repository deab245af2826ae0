/**
 * The caches' shared state, created once per process (it outlives configuration reloads, like
 * the limit counters): the semantic cache, the exact response cache, their settings, and the one
 * function that gives a backend's credentials for the embeddings call.
 * @module
 */
import type { Config } from '../config/schema.ts';
import { configuredCredentials, type CredentialsFor } from './embeddings-client.ts';
import { ExactResponseStore } from './exact-store.ts';
import { SemanticCache } from './semantic-store.ts';
import { EmbeddingMemo } from './embedding-memo.ts';

export type CacheSettings = Config['cache']['responses'];

export interface ResponseCaches {
  readonly semantic: SemanticCache;
  readonly exact: ExactResponseStore;
  /** Replaced by a configuration reload (reconfigureResponseCaches): policies read it per request. */
  settings: CacheSettings;
  /** Unit prompt vectors by exact prompt text (settings.embeddingsMemo entries). */
  readonly memo: EmbeddingMemo;
  /** A backend's credentials for the embeddings call (managed identity plugs in here). */
  readonly credentialsFor: CredentialsFor;
  /**
   * Called when a configuration compiles a cache policy: the gateway starts reading the entries
   * other replicas share (a gateway that caches nothing keeps no reader on Redis).
   */
  used: () => void;
}

export function createResponseCaches(settings: CacheSettings, opts: { clock?: () => number; credentialsFor?: CredentialsFor } = {}): ResponseCaches {
  const bounds = { maxEntries: settings.maxEntries, maxBytes: settings.maxBytes, ...(opts.clock !== undefined && { clock: opts.clock }) };
  return {
    semantic: new SemanticCache(bounds),
    exact: new ExactResponseStore(bounds),
    settings,
    memo: new EmbeddingMemo(settings.embeddingsMemo),
    credentialsFor: opts.credentialsFor ?? configuredCredentials,
    used: () => undefined,
  };
}

/**
 * A configuration reload's `cache.responses`: every setting takes effect for the next request
 * (smaller bounds evict at once, least recently used first); the cached answers themselves stay.
 * `redis` (where entries are shared) is the one exception: the sharing started with the process
 * stays as it is until the next start (the caller says so).
 */
export function reconfigureResponseCaches(caches: ResponseCaches, next: CacheSettings): void {
  caches.settings = next;
  caches.semantic.setBounds(next.maxEntries, next.maxBytes);
  caches.exact.setBounds(next.maxEntries, next.maxBytes);
  caches.memo.resize(next.embeddingsMemo);
}
