/**
 * Turns a validated configuration into the objects the data path uses: backends with their
 * connection pools, mounted APIs, products, the key store, and the compiled policy documents,
 * merged per (API, product, operation) on first use.
 * @module
 */
import { createContentSafety } from '../content-safety/services.ts';
import { setTimeout as delay } from 'node:timers/promises';
import { Agent } from 'undici';
import type { Config } from '../config/schema.ts';
import { ConfigError, sortIssues, type ConfigIssue, type LoadedConfig } from '../config/load.ts';
import { loadContentSchemas } from '../policies/validate-content/schemas.ts';
import type { ApiInfo } from '../core/context.ts';
import type { Pipeline } from '../core/pipeline.ts';
import { KeyStore } from '../auth/key-store.ts';
import { Backend } from '../upstream/backend.ts';
import { HealthRegistry } from '../upstream/health.ts';
import { BackendPool } from '../upstream/pool.ts';
import { OutboundClient } from '../upstream/outbound-client.ts';
import { forwardRequest } from '../policies/forward-request/index.ts';
import { POLICY_DEFINITIONS } from '../policies/index.ts';
import { PolicyCompiler, mergeScopes, type CompiledDocument, type PolicyEnv } from '../policy-docs/compile.ts';
import { PolicyDocError, type PolicyElement } from '../policy-docs/element.ts';
import { problemsOf } from '../policy-docs/problems.ts';
import type { PolicyServices } from '../policy-docs/services.ts';
import { MemoryValueCache, type ValueCache } from '../state/value-cache.ts';
import { MemoryLimitStore } from '../state/memory-limit-store.ts';
import type { LimitStore } from '../state/limit-store.ts';
import { createResponseCaches, type ResponseCaches } from '../cache/services.ts';
import { OPENAI_OPERATION_IDS } from '../providers/openai/routes.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Logger } from '../observability/logger.ts';
import { Router } from './router.ts';
import { OperationMatcher } from '../openapi/match.ts';
import type * as Mcp from '../mcp/endpoint.ts';
import type { McpEndpoint } from '../mcp/endpoint.ts';
import { lazyModule } from '../util/lazy-module.ts';
import { TrustedProxies } from '../server/forwarded.ts';
import { IdentityService } from '../identity/service.ts';
import { LogSinks } from '../loggers/index.ts';
import type { Writable } from 'node:stream';


/** The MCP SDK and its validator load only for a config with an MCP endpoint (docs/performance.md). */
const mcpModule = lazyModule<typeof Mcp>(import.meta.url, '../mcp/endpoint.ts');
export interface ApiRuntime {
  readonly id: string;
  readonly info: ApiInfo;
  readonly type: 'openai' | 'http' | 'mcp';
  readonly prefix: string;
  readonly defaultBackendId: string | null;
  /** Declared deployments; null means any name is forwarded. */
  readonly deployments: ReadonlySet<string> | null;
  readonly subscriptionRequired: boolean;
  /** TRACE is forwarded (without backend credentials) instead of refused. */
  readonly allowTrace: boolean;
  /** The operations of the API's OpenAPI description; null when it has none (everything is forwarded). */
  readonly operations: OperationMatcher | null;
  /** With `operations`: a request that matches none is forwarded instead of refused with 404. */
  readonly passThrough: boolean;
  /** The API's MCP server, when `mcp` is enabled. */
  readonly mcp: McpEndpoint | null;
}

export interface Runtime {
  readonly config: Config;
  /** Single backends (the ones with a URL and a connection pool). */
  readonly backends: ReadonlyMap<string, Backend>;
  /** Every backend id, pools and single backends (as pools of one). */
  readonly pools: ReadonlyMap<string, BackendPool>;
  readonly apis: ReadonlyMap<string, ApiRuntime>;
  readonly router: Router<ApiRuntime>;
  readonly keyStore: KeyStore;
  /** product id → ids of the APIs it grants. */
  readonly productApis: ReadonlyMap<string, ReadonlySet<string>>;
  /** `gateway.trustedProxies`: whose forwarded headers are believed. */
  readonly trustedProxies: TrustedProxies;
  /** Removes secret named values from text bound for logs. */
  redact(text: string): string;
  /** Load-time notices (policies parsed but not enforced yet), as `file:line:col: message`. */
  readonly notices: readonly string[];
  /**
   * The models whose tokenizer tables requests will need as they come (a token limit counts the
   * prompt of a streamed request, or of every request when it estimates; a budget of every
   * request): loaded before the gateway listens. Undefined stands for the
   * default encoding (a model the configuration does not name). Empty when nothing estimates.
   */
  readonly countedModels: ReadonlyArray<string | undefined>;
  /** The merged pipeline: global → product → API → operation. */
  pipelineFor(apiId: string, productId: string | null, operationId: string | null): Pipeline;
  close(): Promise<void>;
}

export interface RuntimeDeps {
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly now: () => number;
  /** Injected in tests to make retry back-offs instant (or recorded). */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly cache?: ValueCache;
  /** Semantic and response caches; kept across reloads when given. */
  readonly responseCaches?: ResponseCaches;
  /** Wall clock for limit windows (tests move it). */
  readonly clock?: () => number;
  /** The counter store; built from `state` config when not given. */
  readonly limits?: LimitStore;
  /** Backend health (circuit breakers), kept across reloads; a fresh one when not given. */
  readonly health?: HealthRegistry;
  /** Token caches and issuer keys, kept across reloads; a fresh one (closed with the runtime) when not given. */
  readonly identity?: IdentityService;
  /** Where `type: stdout` loggers write (process.stdout unless a test passes its own). */
  readonly stdout?: Writable;
}

const defaultSleep = (ms: number, signal: AbortSignal): Promise<void> => delay(ms, undefined, { signal });

/** The validate-content schemas; a schema that cannot be read or compiled is a config error. */
function schemasOf(loaded: LoadedConfig): ReadonlyMap<string, object> {
  try {
    return loadContentSchemas(loaded.config.schemas, loaded.file);
  } catch (err) {
    throw new ConfigError([{ file: loaded.file ?? '<config>', line: 1, col: 1, path: 'schemas', message: (err as Error).message }]);
  }
}

/** @throws ConfigError when a policy document does not compile (every problem, located). */
export function buildRuntime(loaded: LoadedConfig, deps: RuntimeDeps): Runtime {
  const config = loaded.config;
  const health = deps.health ?? new HealthRegistry();
  const identity = deps.identity ?? new IdentityService({ logger: deps.logger, ...(deps.clock !== undefined && { clock: deps.clock }) });
  const backends = new Map<string, Backend>();
  for (const [id, cfg] of Object.entries(config.backends)) {
    if (cfg.type === 'Single') backends.set(id, new Backend(id, cfg, health.get(id, cfg), identity));
  }
  const pools = buildPools(config, backends);
  const urlDispatcher = new Agent({ keepAliveTimeout: 4_000, connections: 128, connect: { timeout: 5_000 } });
  const outbound = new OutboundClient(config.outbound);
  const limits = deps.limits ?? new MemoryLimitStore();
  // Built even when unused (an empty set costs nothing); drained when the runtime closes.
  const loggers = new LogSinks(config.loggers, {
    logger: deps.logger,
    outbound,
    stdout: deps.stdout ?? process.stdout,
    count: (logger, result, n) => deps.metrics.loggerMessages.inc({ logger, result }, n),
  });
  const tokenizerDemand = { estimates: false };
  const services: PolicyServices = {
    backends: pools,
    urlDispatcher,
    outbound,
    cache: deps.cache ?? new MemoryValueCache({ maxEntries: config.cache.maxEntries, maxTtlSeconds: 365 * 24 * 3600 }),
    responseCaches: deps.responseCaches ?? createResponseCaches(config.cache.responses, { ...(deps.clock !== undefined && { clock: deps.clock }) }),
    metrics: deps.metrics,
    loggers,
    logger: deps.logger,
    maxResponseBytes: config.gateway.maxResponseBytes,
    now: deps.now,
    clock: deps.clock ?? Date.now,
    sleep: deps.sleep ?? defaultSleep,
    limits,
    identity,
    entraAuthorityHost: config.identity.authorityHost?.replace(/\/+$/, '') ?? identity.authorityHost,
    contentSchemas: schemasOf(loaded),
    tokenizerDemand,
    contentSafety: createContentSafety(config.contentSafety),
    authorizations: new Map(Object.entries(config.authorizations).map(([p, ids]) => [p, new Map(Object.entries(ids))])),
  };
  const close = async (): Promise<void> => {
    const owned = deps.identity === undefined ? [identity.close()] : [];
    // Loggers first: an HTTP logger's last batches go through the outbound client.
    await loggers.close();
    await Promise.allSettled([...[...backends.values()].map((b) => b.close()), urlDispatcher.close(), outbound.close(), ...owned]);
  };

  let compiled;
  try {
    compiled = compilePolicies(loaded, config, services);
  } catch (err) {
    void close();
    throw err;
  }

  const apis = new Map<string, ApiRuntime>();
  for (const [id, cfg] of Object.entries(config.apis)) {
    const prefix = cfg.path === '' ? '' : `/${cfg.path}`;
    const spec = loaded.specs.get(id);
    if (cfg.openapi !== undefined && spec === undefined) {
      void close();
      // A spec by URL is fetched by fetchApiSpecs (config/remote-specs.ts) before the runtime is built.
      throw new ConfigError([{ file: loaded.file ?? '<config>', line: 1, col: 1, path: `apis.${id}.openapi`, message: `the specification ${cfg.openapi} was not fetched` }]);
    }
    apis.set(id, {
      id,
      info: { id, name: cfg.displayName ?? id, path: cfg.path },
      type: cfg.type,
      prefix,
      defaultBackendId: cfg.backend ?? null,
      deployments: cfg.deployments ? new Set(cfg.deployments) : null,
      subscriptionRequired: cfg.subscriptionRequired,
      allowTrace: cfg.allowTrace,
      operations: spec === undefined ? null : new OperationMatcher(spec.operations),
      passThrough: cfg.passThrough === true,
      mcp: spec !== undefined && cfg.mcp?.enabled === true ? new (mcpModule().McpEndpoint)(id, prefix, spec, cfg.mcp) : null,
    });
  }

  const productApis = new Map<string, ReadonlySet<string>>();
  for (const [id, product] of Object.entries(config.products)) productApis.set(id, new Set(product.apis));

  const keyStore = new KeyStore();
  for (const [id, sub] of Object.entries(config.subscriptions)) {
    const u = sub.user;
    const user =
      u === undefined
        ? null
        : {
            id: u.id,
            email: u.email ?? null,
            firstName: u.firstName ?? null,
            lastName: u.lastName ?? null,
            note: u.note ?? null,
            groups: u.groups.map((g) => (typeof g === 'string' ? { id: g, name: g } : { id: g.id, name: g.name ?? g.id })),
          };
    const info = { id, name: sub.displayName ?? id, productId: sub.product, state: sub.state, user };
    for (const key of sub.keys) keyStore.add(key, info);
  }

  // APIM's implicit outermost document: the backend section forwards the request.
  const root: CompiledDocument = {
    sections: { backend: [forwardRequest({}, { backends: pools, urlDispatcher, outbound, clock: services.clock, maxResponseBytes: config.gateway.maxResponseBytes, now: deps.now })] },
  };
  // API → product → operation: nested maps rather than a key string joined (and hashed) per request.
  const pipelines = new Map<string, Map<string | null, Map<string | null, Pipeline>>>();

  return {
    config,
    backends,
    pools,
    apis,
    router: new Router(apis.values()),
    keyStore,
    productApis,
    trustedProxies: new TrustedProxies(config.gateway.trustedProxies),
    notices: compiled.notices,
    countedModels: countedModels(config, tokenizerDemand.estimates),
    redact: (text) => loaded.secrets.redact(text),
    pipelineFor(apiId, productId, operationId) {
      let byProduct = pipelines.get(apiId);
      if (byProduct === undefined) pipelines.set(apiId, (byProduct = new Map<string | null, Map<string | null, Pipeline>>()));
      let byOperation = byProduct.get(productId);
      if (byOperation === undefined) byProduct.set(productId, (byOperation = new Map<string | null, Pipeline>()));
      let p = byOperation.get(operationId);
      if (p === undefined) {
        p = mergeScopes(root, [
          compiled.global,
          productId === null ? undefined : compiled.products.get(productId),
          compiled.apis.get(apiId),
          operationId === null ? undefined : compiled.operations.get(`${apiId}/${operationId}`),
        ]);
        byOperation.set(operationId, p);
      }
      return p;
    },
    close,
  };
}

/** What `Runtime.countedModels` says: every deployment an API names, and the default encoding. */
function countedModels(config: Config, policiesEstimate: boolean): Array<string | undefined> {
  const budgets = Object.values(config.products).some((p) => p.budget !== undefined) || Object.values(config.subscriptions).some((s) => s.budget !== undefined);
  if (!policiesEstimate && !budgets) return [];
  const models = new Set<string | undefined>([undefined]);
  for (const api of Object.values(config.apis)) for (const d of api.deployments ?? []) models.add(d);
  return [...models];
}

/** Every backend id as a pool: pools with their members, single backends as a pool of one. */
function buildPools(config: Config, backends: ReadonlyMap<string, Backend>): Map<string, BackendPool> {
  const pools = new Map<string, BackendPool>();
  for (const [id, cfg] of Object.entries(config.backends)) {
    const single = backends.get(id);
    if (single !== undefined) {
      pools.set(id, new BackendPool(id, false, [{ backend: single, priority: 1, weight: 1 }]));
      continue;
    }
    // Members exist and are single backends: checked when the config was loaded.
    const members = (cfg.pool?.services ?? []).map((m) => ({ backend: backends.get(m.id) as Backend, priority: m.priority, weight: m.weight }));
    pools.set(id, new BackendPool(id, true, members));
  }
  return pools;
}

interface CompiledPolicies {
  readonly global: CompiledDocument | undefined;
  readonly products: ReadonlyMap<string, CompiledDocument>;
  readonly apis: ReadonlyMap<string, CompiledDocument>;
  readonly operations: ReadonlyMap<string, CompiledDocument>;
  readonly notices: string[];
}

function compilePolicies(loaded: LoadedConfig, config: Config, services: PolicyServices): CompiledPolicies {
  const docs = loaded.policies;
  const issues: ConfigIssue[] = [];
  const notices: string[] = [];
  const env: PolicyEnv = {
    backendIds: new Set(Object.keys(config.backends)),
    loggerIds: new Set(Object.keys(config.loggers)),
    fragments: docs.fragments,
    services,
    notice: (message, pos) => notices.push(`${pos.file}:${pos.line}:${pos.col}: ${message}`),
  };
  const compiler = new PolicyCompiler(POLICY_DEFINITIONS, env);
  // A fragment's problem is found once alone and again in every includer: list it once.
  const seen = new Set<string>();
  const add = (err: PolicyDocError, path: string): void => {
    if (seen.has(err.formatted)) return;
    seen.add(err.formatted);
    issues.push({ ...err.pos, path, message: loaded.secrets.redact(err.message) });
  };
  const compile = (el: PolicyElement | undefined, path: string): CompiledDocument | undefined => {
    if (el === undefined) return undefined;
    try {
      return compiler.document(el);
    } catch (err) {
      if (!(err instanceof PolicyDocError)) throw err;
      for (const p of problemsOf(err)) add(p, path);
      return undefined;
    }
  };
  // Fragments are compiled where they are included; compiling each once alone reports its errors
  // even when nothing includes it yet.
  for (const [id, el] of docs.fragments) {
    for (const p of compiler.fragment(id, el, 'inbound')) {
      // A fragment may hold outbound-only policies; only report what is wrong in every section.
      if (!/not allowed in the inbound section/.test(p.message)) add(p, `fragments.${id}`);
    }
  }
  const global = compile(docs.global, 'policies');
  const products = new Map<string, CompiledDocument>();
  for (const [id, el] of docs.products) {
    const c = compile(el, `products.${id}.policies`);
    if (c !== undefined) products.set(id, c);
  }
  const apis = new Map<string, CompiledDocument>();
  for (const [id, el] of docs.apis) {
    const c = compile(el, `apis.${id}.policies`);
    if (c !== undefined) apis.set(id, c);
  }
  const operations = new Map<string, CompiledDocument>();
  for (const [key, el] of docs.operations) {
    const [apiId, opId] = key.split('/') as [string, string];
    if (config.apis[apiId]?.type === 'openai' && !OPENAI_OPERATION_IDS.has(opId)) {
      issues.push({ ...el.pos, path: `apis.${apiId}.operations.${opId}`, message: `api "${apiId}" has no operation "${opId}" (known: ${[...OPENAI_OPERATION_IDS].join(', ')})` });
      continue;
    }
    // A pass-through MCP API has one operation; per-method or per-tool policies use mcp-method / mcp-tool.
    if (config.apis[apiId]?.type === 'mcp' && opId !== 'mcp') {
      issues.push({ ...el.pos, path: `apis.${apiId}.operations.${opId}`, message: `api "${apiId}" (type mcp) has one operation, "mcp"; for one JSON-RPC method or tool, test context.Variables["mcp-method"] or ["mcp-tool"] in the API's policies` });
      continue;
    }
    const c = compile(el, `apis.${apiId}.operations.${opId}.policies`);
    if (c !== undefined) operations.set(key, c);
  }
  if (issues.length > 0) throw new ConfigError(sortIssues(issues));
  return { global, products, apis, operations, notices };
}
