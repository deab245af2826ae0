/**
 * Turns a validated configuration into the objects the data path uses: backends with their
 * connection pools, mounted APIs with their pipelines, products, and the key store.
 * @module
 */
import type { Config } from '../config/schema.ts';
import type { ApiInfo } from '../core/context.ts';
import type { Pipeline } from '../core/pipeline.ts';
import { KeyStore } from '../auth/key-store.ts';
import { Backend } from '../upstream/backend.ts';
import { forwardRequest } from '../policies/forward-request/index.ts';
import { Router } from './router.ts';

export interface ApiRuntime {
  readonly id: string;
  readonly info: ApiInfo;
  readonly type: 'openai' | 'http';
  readonly prefix: string;
  readonly defaultBackendId: string | null;
  /** Declared deployments; null means any name is forwarded. */
  readonly deployments: ReadonlySet<string> | null;
  readonly subscriptionRequired: boolean;
  readonly pipeline: Pipeline;
}

export interface Runtime {
  readonly config: Config;
  readonly backends: ReadonlyMap<string, Backend>;
  readonly apis: ReadonlyMap<string, ApiRuntime>;
  readonly router: Router<ApiRuntime>;
  readonly keyStore: KeyStore;
  /** product id → ids of the APIs it grants. */
  readonly productApis: ReadonlyMap<string, ReadonlySet<string>>;
  close(): Promise<void>;
}

export function buildRuntime(config: Config, now: () => number): Runtime {
  const backends = new Map<string, Backend>();
  for (const [id, cfg] of Object.entries(config.backends)) backends.set(id, new Backend(id, cfg));

  const forward = forwardRequest({}, { backends, maxResponseBytes: config.gateway.maxResponseBytes, now });
  const apis = new Map<string, ApiRuntime>();
  for (const [id, cfg] of Object.entries(config.apis)) {
    apis.set(id, {
      id,
      info: { id, name: cfg.displayName ?? id, path: cfg.path },
      type: cfg.type,
      prefix: cfg.path === '' ? '' : `/${cfg.path}`,
      defaultBackendId: cfg.backend ?? null,
      deployments: cfg.deployments ? new Set(cfg.deployments) : null,
      subscriptionRequired: cfg.subscriptionRequired,
      // Policy documents (a later stage) compile into these sections; the default backend
      // section is APIM's: forward the request.
      pipeline: { inbound: [], backend: [forward], outbound: [], onError: [] },
    });
  }

  const productApis = new Map<string, ReadonlySet<string>>();
  for (const [id, product] of Object.entries(config.products)) productApis.set(id, new Set(product.apis));

  const keyStore = new KeyStore();
  for (const [id, sub] of Object.entries(config.subscriptions)) {
    const info = { id, name: sub.displayName ?? id, productId: sub.product, state: sub.state };
    for (const key of sub.keys) keyStore.add(key, info);
  }

  return {
    config,
    backends,
    apis,
    router: new Router(apis.values()),
    keyStore,
    productApis,
    async close() {
      await Promise.allSettled([...backends.values()].map((b) => b.close()));
    },
  };
}
