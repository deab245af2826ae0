/**
 * `cache-lookup` / `cache-store`: APIM's response cache, keyed exactly. As in APIM only GET
 * requests are cached; the key is the API, the operation, the path, the query parameters (those
 * named by `<vary-by-query-parameter>`, or all of them when none is named), the values of the
 * headers named by `<vary-by-header>`, and with `vary-by-developer` the subscription (Tollgate's
 * developer) or with `vary-by-developer-groups` its product. A hit skips the backend; outbound
 * still runs. `downstream-caching-type` sets the client's Cache-Control. docs/cache.md.
 * @module
 */
import type { RequestContext } from '../../core/context.ts';
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import { ElementReader } from '../../policy-docs/reader.ts';
import type { Dyn } from '../../policy-docs/values.ts';
import { partitionId } from '../../cache/prompt-key.ts';
import type { StoredResponse } from '../../cache/exact-store.ts';
import { cacheHeaders, recordBounded } from '../semantic-cache/answer-flow.ts';

const CACHING_TYPES = ['prefer-external', 'external', 'internal'] as const;
const DOWNSTREAM = ['none', 'private', 'public'] as const;
/** Response headers never replayed from the cache: per-connection, or about the original request. */
const NOT_STORED = new Set(['set-cookie', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'x-request-id', 'date', 'age']);

/** What the lookup tells the store: where to put the answer, and the Cache-Control to send. */
const downstream = new WeakMap<RequestContext, (maxAgeSeconds: number) => string | undefined>();

function namesOf(r: ElementReader, child: string): string[] {
  const out: string[] = [];
  for (const el of r.el.children) {
    if (el.name !== child) continue;
    const c = new ElementReader(el);
    const text = el.text?.value.trim() ?? '';
    c.done();
    if (text === '' || /^@[({]/.test(text)) throw c.fail(null, 'needs a literal name');
    // APIM accepts several names in one element, separated by semicolons.
    out.push(...text.split(';').map((s) => s.trim()).filter((s) => s !== ''));
  }
  return out;
}

/** Where outbound resumes after a hit (see RequestContext.cacheHitStores). */
const RESPONSE_STORES: ReadonlySet<string> = new Set(['cache-store']);

export const cacheLookupDefinition: PolicyDefinition = {
  names: ['cache-lookup'],
  sections: ['inbound'],
  compile(r, _scope, env) {
    // A configuration with a cache policy: replicas' shared entries are read from now on.
    env.services.responseCaches.used();
    r.children(['vary-by-header', 'vary-by-query-parameter']);
    r.noText();
    const byDeveloper = r.bool('vary-by-developer', undefined, true) as Dyn<boolean>;
    const byGroups = r.bool('vary-by-developer-groups', undefined, true) as Dyn<boolean>;
    const downstreamType = r.oneOf('downstream-caching-type', DOWNSTREAM, 'none') ?? 'none';
    r.oneOf('caching-type', CACHING_TYPES, 'prefer-external');
    const mustRevalidate = r.bool('must-revalidate', true) as Dyn<boolean>;
    r.bool('allow-private-response-caching', false);
    const headers = namesOf(r, 'vary-by-header').map((h) => h.toLowerCase());
    const params = namesOf(r, 'vary-by-query-parameter');
    const { responseCaches, metrics } = env.services;
    const store = responseCaches.exact;
    const looked = { hit: metrics.cacheLookups.labels('response', 'hit'), miss: metrics.cacheLookups.labels('response', 'miss') };
    return {
      name: 'cache-lookup',
      run(ctx) {
        if (ctx.preflight || ctx.request.method !== 'GET') return;
        const query = new URLSearchParams(ctx.request.query);
        const queryPart = (params.length > 0 ? params.map((p) => [p, query.getAll(p).join(',')]) : [...query.entries()].sort()).map(([k, v]) => `${k}=${v}`).join('&');
        const parts = ['response', ctx.api?.id ?? '', ctx.operation?.id ?? '', ctx.request.path, queryPart];
        for (const h of headers) {
          const v = ctx.request.headers[h];
          parts.push(`${h}:${Array.isArray(v) ? v.join(',') : (v ?? '')}`);
        }
        parts.push(byDeveloper(ctx) ? `developer:${ctx.subscription?.id ?? ''}` : '', byGroups(ctx) ? `groups:${ctx.productId ?? ''}` : '');
        const key = partitionId(parts);
        const control = cacheControl(downstreamType, mustRevalidate(ctx));
        if (control !== undefined) downstream.set(ctx, control);
        const hit = store.get(key);
        (hit === undefined ? looked.miss : looked.hit).inc();
        ctx.cache = { kind: 'response', result: hit === undefined ? 'miss' : 'hit', score: null, embeddingTokens: 0 };
        cacheHeaders(ctx, hit === undefined ? 'miss' : 'hit', null);
        if (hit === undefined) {
          ctx.pendingCacheStore = { kind: 'response', key };
          return;
        }
        const replay: Record<string, string> = { ...hit.headers };
        const cc = control?.(Math.max(0, Math.floor((hit.expiresAt - env.services.clock()) / 1000)));
        if (cc !== undefined) replay['cache-control'] = cc;
        ctx.response = { status: hit.status, headers: replay, body: { kind: 'buffer', data: hit.body } };
        ctx.answeredFromCache(RESPONSE_STORES);
      },
    };
  },
};

function cacheControl(type: (typeof DOWNSTREAM)[number], mustRevalidate: boolean): ((maxAge: number) => string) | undefined {
  if (type === 'none') return undefined;
  return (maxAge) => `${type}, max-age=${maxAge}${mustRevalidate ? ', must-revalidate' : ''}`;
}

export const cacheStoreDefinition: PolicyDefinition = {
  names: ['cache-store'],
  sections: ['outbound'],
  compile(r, _scope, env) {
    // A configuration with a cache policy: replicas' shared entries are read from now on.
    env.services.responseCaches.used();
    r.children([]);
    r.noText();
    const duration = r.int('duration', { min: 1, max: 31_536_000, required: true }) as Dyn<number>;
    const cacheResponse = r.bool('cache-response', false) as Dyn<boolean>;
    const { responseCaches, clock, logger } = env.services;
    const { exact } = responseCaches;
    return {
      name: 'cache-store',
      run(ctx) {
        const pending = ctx.pendingCacheStore;
        const response = ctx.response;
        if (pending?.kind !== 'response' || response === null) return;
        ctx.pendingCacheStore = null;
        const status = response.status;
        // APIM stores 200 only, unless cache-response says the current response (any 2xx here: never an error).
        if (!(cacheResponse(ctx) ? status >= 200 && status < 300 : status === 200)) return;
        const ttl = duration(ctx);
        const expiresAt = clock() + ttl * 1000;
        const headers: Record<string, string> = {};
        for (const [name, v] of Object.entries(response.headers)) {
          if (!NOT_STORED.has(name) && !name.startsWith('x-tollgate-cache')) headers[name] = Array.isArray(v) ? v.join(', ') : v;
        }
        const cc = downstream.get(ctx)?.(ttl);
        if (cc !== undefined) response.headers['cache-control'] = cc;
        const put = (body: Buffer): void => {
          try {
            exact.store(pending.key, { status, headers, body, expiresAt } satisfies StoredResponse);
          } catch (err) {
            logger.warn({ requestId: ctx.requestId, err: (err as Error).message }, 'response cache store failed; the answer was served');
          }
        };
        const body = response.body;
        if (body.kind === 'empty') return put(Buffer.alloc(0));
        if (body.kind === 'buffer') {
          // Read per request: a configuration reload replaces the settings.
          if (body.data.length <= responseCaches.settings.maxEntryBytes) put(body.data);
          return;
        }
        // A passed-through body is recorded on its way to the client and stored once it completed.
        const { stream, captured } = recordBounded(body.stream, responseCaches.settings.maxEntryBytes);
        response.body = { kind: 'stream', stream, sse: body.sse };
        ctx.finishers.push((done, finalStatus) => {
          const bytes = captured();
          if (bytes !== undefined && done.lastError === null && finalStatus === status) put(bytes);
        });
      },
    };
  },
};
