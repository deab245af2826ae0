/**
 * `llm-semantic-cache-lookup` / `llm-semantic-cache-store` (and the `azure-openai-` names).
 * Lookup (inbound): embed the prompt with the embeddings backend, search the request's partition,
 * and on a hit answer from the cache: the backend section is skipped, outbound still runs (the
 * store then has nothing to do, as in APIM). Store (outbound): keep a complete 2xx answer, held
 * or streamed, once it is known to be complete. Every failure of the cache is a miss, never an
 * error for the client. docs/cache.md explains partitions, accounting and headers.
 * @module
 */
import type { RequestContext } from '../../core/context.ts';
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import { ElementReader } from '../../policy-docs/reader.ts';
import type { Dyn } from '../../policy-docs/values.ts';
import { embed, EmbeddingsError, systemAssignedCredentials } from '../../cache/embeddings-client.ts';
import { partitionId, promptKey } from '../../cache/prompt-key.ts';
import { unitVector } from '../../cache/vector-index.ts';
import type { SemanticHit } from '../../cache/semantic-store.ts';
import type { BackendPool } from '../../upstream/pool.ts';
import { sendWhatWasRead } from '../shared/parsed-body.ts';
import { cacheHeaders, hitResponse, storeAnswer } from './answer-flow.ts';

/** Where outbound resumes after a hit (see RequestContext.cacheHitStores). */
const SEMANTIC_STORES: ReadonlySet<string> = new Set(['llm-semantic-cache-store', 'azure-openai-semantic-cache-store']);

const ZERO_TOKENS = { promptTokens: 0, completionTokens: 0, totalTokens: 0, cachedTokens: 0, reasoningTokens: 0 };

export const semanticCacheLookupDefinition: PolicyDefinition = {
  names: ['llm-semantic-cache-lookup', 'azure-openai-semantic-cache-lookup'],
  sections: ['inbound'],
  compile(r, _scope, env) {
    // A configuration with a cache policy: replicas' shared entries are read from now on.
    env.services.responseCaches.used();
    const thresholdText = r.literal('score-threshold', true) as string;
    const threshold = Number(thresholdText.trim());
    if (thresholdText.trim() === '' || !Number.isFinite(threshold) || threshold < 0 || threshold > 1) throw r.fail('score-threshold', `must be a number from 0 to 1, got "${thresholdText}"`);
    const backendId = (r.literal('embeddings-backend-id', true) as string).trim();
    if (!env.backendIds.has(backendId)) throw r.fail('embeddings-backend-id', `names backend "${backendId}", which is not defined under backends`);
    const systemAssigned = r.oneOf('embeddings-backend-auth', ['system-assigned'], undefined, true) === 'system-assigned';
    const ignoreSystem = r.bool('ignore-system-messages', false) as Dyn<boolean>;
    const maxMessages = r.int('max-message-count', { min: 1, max: 100_000 });
    // Tollgate extension (DESIGN.md, "where the sources disagree"): the seeds' similarity reading by default.
    const scoreType = r.oneOf('score-type', ['similarity', 'distance'], 'similarity');
    if (scoreType === 'similarity' && threshold < 0.5) {
      env.notice(`<${r.el.name}> score-threshold ${threshold} is read as a cosine similarity (hit when similarity ≥ ${threshold}): that is very loose; for the docs' distance reading add score-type="distance"`, r.el.pos);
    }
    const varyBy: Dyn<string>[] = [];
    for (const child of r.children(['vary-by'])) {
      const c = new ElementReader(child);
      const text = c.text();
      if (text === undefined) throw c.fail(null, 'needs a value (text or expression)');
      c.done();
      varyBy.push(text);
    }
    r.noText();
    const { backends, responseCaches, clock, logger, metrics } = env.services;
    // settings are read per request: a configuration reload replaces them (services.ts).
    const { semantic, memo } = responseCaches;
    const { identity } = env.services;
    const missing = systemAssigned ? identity.missingManagedIdentity() : undefined;
    // Outside Azure (no managed identity in the environment) the seed's attribute, which APIM
    // requires, must not make the cache unusable: the backend's configured credentials are used.
    if (missing !== undefined) env.notice(`<${r.el.name}> embeddings-backend-auth="system-assigned": ${missing}, so the embeddings backend's configured credentials are used instead`, r.el.pos);
    const credentialsFor = systemAssigned && missing === undefined ? systemAssignedCredentials(identity) : responseCaches.credentialsFor;
    const looked = { hit: metrics.cacheLookups.labels('semantic', 'hit'), miss: metrics.cacheLookups.labels('semantic', 'miss'), error: metrics.cacheLookups.labels('semantic', 'error') };
    /** The search and the hit/miss decision, once the prompt has its vector. */
    const decide = (ctx: RequestContext, partition: string, vector: Float32Array, embeddingTokens: number): void | Promise<void> => {
      let near: ReturnType<typeof semantic.nearest>;
      try {
        near = semantic.nearest(partition, vector);
      } catch (err) {
        near = searchFailed(ctx, err);
      }
      // A large partition is searched in the HNSW thread (a promise); a small one here, at once.
      if (near instanceof Promise) {
        return near.then(
          (n) => answer(ctx, partition, vector, embeddingTokens, n),
          (err: unknown) => answer(ctx, partition, vector, embeddingTokens, searchFailed(ctx, err)),
        );
      }
      answer(ctx, partition, vector, embeddingTokens, near);
    };
    /** The index failing (a native error) is a miss like any other cache failure. */
    const searchFailed = (ctx: RequestContext, err: unknown): undefined => {
      logger.warn({ requestId: ctx.requestId, policy: r.el.name, reason: (err as Error).message }, 'semantic cache search failed; treated as a miss');
      return undefined;
    };
    const answer = (ctx: RequestContext, partition: string, vector: Float32Array, embeddingTokens: number, near: SemanticHit | undefined): void => {
      const score = near === undefined ? null : near.similarity;
      const hit = near !== undefined && (scoreType === 'distance' ? 1 - near.similarity <= threshold : near.similarity >= threshold);
      ctx.cache = { kind: 'semantic', result: hit ? 'hit' : 'miss', score, embeddingTokens };
      cacheHeaders(ctx, hit ? 'hit' : 'miss', score);
      (hit ? looked.hit : looked.miss).inc();
      if (!hit || near === undefined) {
        // The answer will be filed under the parsed prompt: the backend must answer that prompt,
        // not a repeated key's twin the parse dropped (a poisoned entry for the partition).
        if (ctx.request.json !== null) sendWhatWasRead(ctx, ctx.request.json);
        ctx.pendingCacheStore = { kind: 'semantic', partition, vector };
        return;
      }
      ctx.response = hitResponse(near.answer.body, ctx);
      // The answer cost no chat tokens: limits settle to 0, the usage record shows 0 and `cache: hit`.
      ctx.tokens = { ...ZERO_TOKENS };
      ctx.tokenSource = 'none';
      ctx.answeredFromCache(SEMANTIC_STORES);
    };
    /** The embeddings round trip, then the decision; any failure of the call is a miss. */
    const embedThenDecide = async (ctx: RequestContext, text: string, partition: string, pool: BackendPool, memoKey: string | null): Promise<void> => {
      let vector: Float32Array;
      let embeddingTokens: number;
      try {
        const embedding = await embed(pool, text, { timeoutMs: responseCaches.settings.embeddingsTimeoutMs, credentials: credentialsFor, clock, signal: ctx.signal });
        embeddingTokens = embedding.tokens;
        metrics.cacheEmbeddingTokens.inc(embedding.tokens);
        vector = unitVector(embedding.vector);
        if (memoKey !== null) memo.set(memoKey, vector);
      } catch (err) {
        if (ctx.signal.aborted) return;
        // A miss, never an error: the request goes on to the backend as if there were no cache.
        logger.warn({ requestId: ctx.requestId, policy: r.el.name, reason: err instanceof EmbeddingsError ? err.message : 'embeddings call failed' }, 'semantic cache lookup failed; treated as a miss');
        ctx.cache = { kind: 'semantic', result: 'miss', score: null, embeddingTokens: 0 };
        cacheHeaders(ctx, 'miss', null);
        looked.error.inc();
        return;
      }
      await decide(ctx, partition, vector, embeddingTokens);
    };
    return {
      name: r.el.name,
      // Not async: a prompt whose vector is remembered is looked up in a small (exactly scanned)
      // partition without a promise or an await.
      run(ctx) {
        if (ctx.preflight || ctx.metering?.usage !== 'chat' || ctx.request.json === null) return;
        const key = promptKey(ctx.request.json, ignoreSystem(ctx));
        if (key === undefined) return;
        if (maxMessages !== undefined && key.messageCount > maxMessages(ctx)) return;
        const parts = [ctx.api?.id ?? '', ctx.deployment ?? '', tenantOf(ctx, responseCaches.settings.partition)];
        for (const v of varyBy) parts.push(v(ctx));
        parts.push(key.shape);
        const partition = partitionId(parts);
        const pool = backends.get(backendId);
        if (pool === undefined) return;
        // Keyed by the embeddings URL: a reload that points the backend at another model starts afresh.
        const memoKey = memo.enabled ? memo.key(pool.members[0]?.backend.url.href ?? backendId, key.text) : null;
        const remembered = memoKey === null ? undefined : memo.get(memoKey);
        if (remembered !== undefined) return decide(ctx, partition, remembered, 0);
        return embedThenDecide(ctx, key.text, partition, pool, memoKey);
      },
    };
  },
};

/** Whose entries a request may see: its subscription's (default) or its product's. */
function tenantOf(ctx: RequestContext, scope: 'subscription' | 'product'): string {
  if (scope === 'product' && ctx.productId !== null) return `product:${ctx.productId}`;
  if (ctx.subscription !== null) return `subscription:${ctx.subscription.id}`;
  return 'anonymous';
}

export const semanticCacheStoreDefinition: PolicyDefinition = {
  names: ['llm-semantic-cache-store', 'azure-openai-semantic-cache-store'],
  sections: ['outbound'],
  compile(r, _scope, env) {
    // A configuration with a cache policy: replicas' shared entries are read from now on.
    env.services.responseCaches.used();
    r.children([]);
    r.noText();
    const duration = r.int('duration', { min: 1, max: 31_536_000, required: true }) as Dyn<number>;
    const cacheResponse = r.bool('cache-response', false) as Dyn<boolean>;
    const services = env.services;
    return {
      name: r.el.name,
      run(ctx) {
        const pending = ctx.pendingCacheStore;
        if (pending?.kind !== 'semantic') return;
        ctx.pendingCacheStore = null;
        storeAnswer(ctx, services, { ttlSeconds: duration(ctx), anySuccess: cacheResponse(ctx) }, (body, expiresAt) => {
          services.responseCaches.semantic.store({ partition: pending.partition, vector: pending.vector, answer: { body }, expiresAt });
        });
      },
    };
  },
};
