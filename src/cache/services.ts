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
  readonly settings: CacheSettings;
  /** Unit prompt vectors by exact prompt text (settings.embeddingsMemo entries). */
  readonly memo: EmbeddingMemo;
  /** A backend's credentials for the embeddings call (managed identity plugs in here). */
  readonly credentialsFor: CredentialsFor;
}

export function createResponseCaches(settings: CacheSettings, opts: { clock?: () => number; credentialsFor?: CredentialsFor } = {}): ResponseCaches {
  const bounds = { maxEntries: settings.maxEntries, maxBytes: settings.maxBytes, ...(opts.clock !== undefined && { clock: opts.clock }) };
  return {
    semantic: new SemanticCache(bounds),
    exact: new ExactResponseStore(bounds),
    settings,
    memo: new EmbeddingMemo(settings.embeddingsMemo),
    credentialsFor: opts.credentialsFor ?? configuredCredentials,
  };
}
