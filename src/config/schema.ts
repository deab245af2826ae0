/**
 * The configuration schema (`tollgate.yaml`). Resource names mirror APIM's Bicep resources so that
 * APIM users recognise them: backends, apis, products, subscriptions, namedValues.
 * Every field is documented in README.md ("Config reference"); keep the two in step.
 * @module
 */
import { z } from 'zod';
import { contentSafetySchema } from './content-safety.ts';
import { budgetSchema, ledgerSchema, loggerSchema, modelPriceSchema } from './metering-schema.ts';
import { backendSchema, positiveMs, type circuitBreakerRuleSchema, type poolMemberSchema } from './backend-schema.ts';
import { parseIpRange } from '../util/ip-range.ts';

const MiB = 1024 * 1024;

/** `host:port` on which a listener binds. IPv6 hosts in brackets: `[::1]:8080`. */
export const listenAddress = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:8080');

export const namedValueSchema = z
  .strictObject({
    value: z.string().optional(),
    env: z.string().min(1).optional(),
    file: z.string().min(1).optional(),
    secret: z.boolean().default(false),
  })
  .refine((v) => [v.value, v.env, v.file].filter((x) => x !== undefined).length === 1, {
    message: 'a named value needs exactly one of value, env or file',
  });

/**
 * A policy document: a file path (`.xml`, `.yaml`/`.yml`, relative to the config file), an inline
 * XML string (starts with `<`), or the YAML form (a mapping of sections; a list for fragments).
 */
export const policySourceSchema = z.union([
  z.string().min(1),
  z.record(z.string(), z.unknown()),
  z.array(z.unknown()),
]);

export const operationSchema = z.strictObject({ policies: policySourceSchema.optional() });

/** `apis.<id>.mcp`: the API's operations as MCP tools (docs/mcp.md). */
export const apiMcpSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Served at `/<api path>/<mcp path>`. */
  path: z
    .string()
    .regex(/^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/, 'expected a path like "mcp" (no leading or trailing slash)')
    .default('mcp'),
  /** The operations offered as tools (operationIds); all of them when absent. */
  tools: z.array(z.string().min(1)).min(1).optional(),
  /** Largest tool result (the backend's answer) passed back; larger ones are cut and marked so. */
  maxResultBytes: z.number().int().positive().max(64 * MiB).default(MiB),
});

export const apiSchema = z.strictObject({
  /** URL prefix without slashes at either end; "" mounts at the root (so /v1/... works). */
  path: z
    .string()
    .regex(/^([A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*)?$/, 'expected a path like "openai" or "" (no leading or trailing slash)'),
  type: z.enum(['openai', 'http', 'mcp']).default('openai'),
  displayName: z.string().optional(),
  backend: z.string().min(1).optional(),
  deployments: z.array(z.string().min(1)).optional(),
  subscriptionRequired: z.boolean().default(true),
  /**
   * TRACE is refused (405) unless this is true: a backend may echo it, credentials included. Even
   * when allowed it is forwarded without the backend's credentials. CONNECT is always refused.
   */
  allowTrace: z.boolean().default(false),
  /**
   * An OpenAPI (3.0, 3.1) or Swagger 2.0 description, JSON or YAML, as a file relative to the
   * config file (`type: http` only): its operations become the API's operations.
   */
  openapi: z.string().min(1).optional(),
  /**
   * With `openapi`: requests that match no operation are forwarded (as `Passthrough`) instead of
   * 404. Absent means false (no default written, so configs without it parse as they did).
   */
  passThrough: z.boolean().optional(),
  mcp: apiMcpSchema.optional(),
  policies: policySourceSchema.optional(),
  /** Operation-scope policies by operation id (e.g. ChatCompletions_Create). */
  operations: z.record(z.string().min(1), operationSchema).default({}),
});

export const productSchema = z.strictObject({
  displayName: z.string().optional(),
  apis: z.array(z.string().min(1)).default([]),
  policies: policySourceSchema.optional(),
  budget: budgetSchema.optional(),
});

const tokenUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });

/**
 * A credential-manager authorization (`get-authorization-context`): an OAuth2 client-credentials
 * grant, a refresh-token grant, or a static token. Secrets (`clientSecret`, `refreshToken`,
 * `token`) must be secret named values (checked in load.ts).
 */
export const authorizationSchema = z
  .strictObject({
    clientCredentials: z.strictObject({ tokenUrl, clientId: z.string().min(1), clientSecret: z.string().min(1), scope: z.string().min(1).optional() }).optional(),
    refreshToken: z
      .strictObject({ tokenUrl, clientId: z.string().min(1), clientSecret: z.string().min(1).optional(), refreshToken: z.string().min(1), scope: z.string().min(1).optional() })
      .optional(),
    token: z.string().min(1).optional(),
  })
  .refine((a) => [a.clientCredentials, a.refreshToken, a.token].filter((x) => x !== undefined).length === 1, {
    message: 'an authorization needs exactly one of clientCredentials, refreshToken and token',
  });

const authorizationId = z.string().regex(/^[A-Za-z0-9._-]+$/, 'invalid id (letters, digits, ".", "_" and "-")');

/** A group of a subscription's owner: an id (also its name), or both. */
export const userGroupSchema = z.union([z.string().min(1), z.strictObject({ id: z.string().min(1), name: z.string().min(1).optional() })]);

/** The user who owns a subscription (APIM's `context.User`). */
export const subscriptionUserSchema = z.strictObject({
  id: z.string().min(1),
  email: z.string().min(1).optional(),
  firstName: z.string().optional(),
  lastName: z.string().optional(),
  groups: z.array(userGroupSchema).max(100).default([]),
  note: z.string().optional(),
});

export const subscriptionSchema = z.strictObject({
  displayName: z.string().optional(),
  product: z.string().min(1),
  keys: z.array(z.string().min(8, 'a subscription key needs at least 8 characters')).min(1).max(8),
  state: z.enum(['active', 'suspended']).default('active'),
  budget: budgetSchema.optional(),
  /** The subscription's owner: `context.User` (null when absent, as for an APIM subscription without a user). */
  user: subscriptionUserSchema.optional(),
});

export const simulatorSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(1).max(65535),
  tpm: z.number().int().positive().optional(),
  rpm: z.number().int().positive().optional(),
  latencyMs: z.number().int().min(0).optional(),
  tokensPerSecond: z.number().min(0).optional(),
  failRate: z.number().min(0).max(1).optional(),
  models: z.array(z.string().min(1)).optional(),
  /**
   * A standing fault from start-up, so one pool member can fail while the others stay healthy
   * (headers cannot single one out: the gateway forwards the same request to whichever it picks).
   * `fail` takes the `x-sim-fail` grammar; `rate` is the fraction of requests faulted (default 1).
   * Switch it at run time with `PUT /_sim/fault` on the simulator. The simulator re-checks the
   * whole grammar when it starts (e.g. the cut-after:N bound).
   */
  fault: z
    .strictObject({
      fail: z
        .string()
        .regex(/^\s*([45]\d\d|hang|reset|(cut|stall)-after:\d+)\s*$/i, 'expected 400-599, hang, reset, cut-after:N or stall-after:N'),
      retryAfterSeconds: z.number().int().min(0).max(86_400).optional(),
      latencyMs: z.number().int().min(0).max(600_000).optional(),
      rate: z.number().min(0).max(1).optional(),
    })
    .optional(),
});

export const configSchema = z.strictObject({
  gateway: z
    .strictObject({
      listen: listenAddress.default('127.0.0.1:8080'),
      /** Largest request body accepted; larger ones get 413 before they are read. */
      maxBodyBytes: z.number().int().positive().max(1024 * MiB).default(4 * MiB),
      /** Largest non-streamed backend response buffered for usage extraction and outbound policies. */
      maxResponseBytes: z.number().int().positive().max(1024 * MiB).default(32 * MiB),
      /** How long in-flight requests and streams may run after SIGTERM before they are cut. */
      shutdownGraceMs: positiveMs.default(30_000),
      /** Slow-header protection (node:http headersTimeout). */
      headersTimeoutMs: positiveMs.default(10_000),
      /** Whole-request-body read timeout (node:http requestTimeout); 0 disables. */
      requestTimeoutMs: z.number().int().min(0).default(60_000),
      /**
       * Peers (addresses or CIDR ranges) whose forwarded headers (X-Forwarded-For, Forwarded,
       * X-Real-IP, X-Forwarded-Host/-Proto, X-Original-URL…) are believed; from every other peer
       * they are removed and X-Forwarded-For is set from the socket.
       */
      trustedProxies: z
        .array(z.string().refine((s) => parseIpRange(s) !== undefined, 'expected an IP address or a CIDR range such as 10.0.0.0/8'))
        .max(1024)
        .default([]),
      /** Longest a streamed response may take to pass through; then SSE gets a terminal error event. */
      maxStreamDurationMs: positiveMs.default(1_800_000),
    })
    // node:http refuses to start otherwise; say so at load, with the field.
    .refine((g) => g.requestTimeoutMs === 0 || g.headersTimeoutMs <= g.requestTimeoutMs, {
      message: 'must not be greater than requestTimeoutMs',
      path: ['headersTimeoutMs'],
    })
    .default({
      listen: '127.0.0.1:8080',
      maxBodyBytes: 4 * MiB,
      maxResponseBytes: 32 * MiB,
      shutdownGraceMs: 30_000,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 60_000,
      trustedProxies: [],
      maxStreamDurationMs: 1_800_000,
    }),
  admin: z
    .strictObject({
      listen: listenAddress.default('127.0.0.1:8081'),
      enabled: z.boolean().default(true),
      /** Admin keys (secret named values, `{{name}}`): required on every admin path but /health and /ready when set; mandatory off loopback. */
      keys: z.array(z.string().min(1)).max(100).default([]),
    })
    .default({ listen: '127.0.0.1:8081', enabled: true, keys: [] }),
  log: z
    .strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info') })
    .default({ level: 'info' }),
  namedValues: z.record(z.string().regex(/^[A-Za-z0-9._-]+$/, 'invalid named value name'), namedValueSchema).default({}),
  backends: z.record(z.string().min(1), backendSchema).default({}),
  apis: z.record(z.string().min(1), apiSchema).default({}),
  products: z.record(z.string().min(1), productSchema).default({}),
  subscriptions: z.record(z.string().min(1), subscriptionSchema).default({}),
  /** Global-scope policy document (APIM's "All APIs"). */
  policies: policySourceSchema.optional(),
  /** Policy fragments for `<include-fragment fragment-id="...">`. */
  fragments: z.record(z.string().regex(/^[A-Za-z0-9._-]+$/, 'invalid fragment id'), policySourceSchema).default({}),
  loggers: z.record(z.string().min(1), loggerSchema).default({}),
  /** The durable usage ledger: every request's usage record with its cost (default: off). */
  ledger: ledgerSchema.default({ store: 'off' }),
  /** Prices per model in USD per 1M tokens; they override the shipped table (src/ledger/default-prices.ts). */
  pricing: z.record(z.string().min(1), modelPriceSchema).default({}),
  /** JSON schemas for validate-content's `schema-id`: a file (relative to the config file) or the schema inline. */
  schemas: z
    .record(
      z.string().regex(/^[A-Za-z0-9._-]+$/, 'invalid schema id'),
      z.union([z.strictObject({ file: z.string().min(1) }), z.strictObject({ inline: z.union([z.record(z.string(), z.unknown()), z.string().min(1)]) })]),
    )
    .default({}),
  /** Credential-manager authorizations by provider id, then authorization id (docs/identity.md). */
  authorizations: z.record(authorizationId, z.record(authorizationId, authorizationSchema)).default({}),
  /** Requests policies make themselves (send-request). */
  outbound: z
    .strictObject({
      /** Allow private, loopback and link-local targets (off: they are refused). */
      allowPrivateNetworks: z.boolean().default(false),
      /** Host names always allowed, whatever they resolve to. */
      allowedHosts: z.array(z.string().min(1)).default([]),
    })
    .default({ allowPrivateNetworks: false, allowedHosts: [] }),
  /**
   * The caches: `maxEntries` bounds the cache-lookup-value / cache-store-value cache; `responses`
   * bounds the answers of the semantic cache and the response cache (docs/cache.md).
   */
  cache: z
    .strictObject({
      maxEntries: z.number().int().positive().max(10_000_000).default(10_000),
      responses: z
        .strictObject({
          /** Answers kept at most (semantic and response cache together); least recently used evicted first. */
          maxEntries: z.number().int().positive().max(10_000_000).default(10_000),
          /** Bytes kept at most (answers, vectors, bookkeeping). */
          maxBytes: z.number().int().positive().max(64 * 1024 * MiB).default(256 * MiB),
          /** A larger answer is not stored. */
          maxEntryBytes: z.number().int().positive().max(1024 * MiB).default(1 * MiB),
          /** The embeddings call of a lookup: longer is a miss. */
          embeddingsTimeoutMs: z.number().int().positive().max(60_000).default(2000),
          /** Prompt vectors remembered per exact prompt text (0: off), so a repeated prompt needs no embeddings call. */
          embeddingsMemo: z.number().int().min(0).max(1_000_000).default(4096),
          /** Who may get an entry: the subscription that stored it (default), or any subscription of its product. */
          partition: z.enum(['subscription', 'product']).default('subscription'),
          /** Share entries between replicas through Redis: `state` (the state store's Redis, when it is one), `off`, or a URL of its own. */
          redis: z.union([z.enum(['state', 'off']), z.string().regex(/^rediss?:\/\//, 'expected state, off, or a redis:// URL')]).default('state'),
        })
        .default({ maxEntries: 10_000, maxBytes: 256 * MiB, maxEntryBytes: MiB, embeddingsTimeoutMs: 2000, embeddingsMemo: 4096, partition: 'subscription', redis: 'state' }),
    })
    .default({ maxEntries: 10_000, responses: { maxEntries: 10_000, maxBytes: 256 * MiB, maxEntryBytes: MiB, embeddingsTimeoutMs: 2000, embeddingsMemo: 4096, partition: 'subscription', redis: 'state' } }),
  /** Where counters live: this process (`memory`), or Redis shared by every replica. */
  state: z
    .strictObject({
      store: z.enum(['memory', 'redis']).default('memory'),
      /** `redis://[user:password@]host:port[/db]` (use a named value for the password); with `cluster`, a seed node. */
      url: z.string().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL').optional(),
      /** Redis Cluster seed nodes (with `cluster: true`), instead of `url`; the other nodes are discovered. */
      urls: z.array(z.string().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL')).min(1).max(100).optional(),
      /** Connect to a Redis Cluster: every key of this gateway shares one hash tag (`{keyPrefix}`), so one slot. */
      cluster: z.boolean().default(false),
      /** Redis unreachable: `open` admits with a local limit of limit/replicas; `closed` answers 503. */
      failMode: z.enum(['open', 'closed']).default('open'),
      /** How many replicas share the limits (the fail-open local fallback divides by it). */
      replicas: z.number().int().positive().max(10_000).default(1),
      /** Timeout of every Redis command. */
      commandTimeoutMs: z.number().int().positive().max(10_000).default(20),
      /** Namespace of every key and, in braces, their hash tag: gateways with different prefixes use different cluster slots. */
      keyPrefix: z.string().min(1).regex(/^[^{}]*$/, 'no braces: the prefix becomes the Redis Cluster hash tag').default('tollgate:'),
    })
    .refine((s) => s.store !== 'redis' || s.url !== undefined || s.urls !== undefined, { message: 'state.store redis needs state.url (or state.urls with cluster)' })
    .refine((s) => s.url === undefined || s.urls === undefined, { message: 'state.url and state.urls: give one of them' })
    .refine((s) => s.urls === undefined || s.cluster, { message: 'state.urls are cluster seed nodes: set state.cluster: true' })
    .default({ store: 'memory', failMode: 'open', replicas: 1, commandTimeoutMs: 20, keyPrefix: 'tollgate:', cluster: false }),
  /** Managed identity, OAuth2 and client-token validation (docs/identity.md). */
  identity: z
    .strictObject({
      /** Entra ID authority for validate-azure-ad-token; default AZURE_AUTHORITY_HOST or https://login.microsoftonline.com. */
      authorityHost: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).optional(),
    })
    .default({}),
  /** Token metrics and custom metrics: series caps and the optional OTLP export (docs/metering.md). */
  telemetry: z
    .strictObject({
      /** Label sets kept per custom metric (emit-metric, token metrics); past it, new ones are counted under one `other` series. */
      maxSeriesPerMetric: z.number().int().positive().max(1_000_000).default(1000),
      /** Also push the custom metrics (token metrics, emit-metric) as OpenTelemetry metrics over OTLP/HTTP (JSON encoding). */
      otlp: z
        .strictObject({
          /** The collector's metrics endpoint, e.g. http://127.0.0.1:4318/v1/metrics. */
          url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
          /** How often the cumulative counters are exported. */
          intervalMs: z.number().int().min(100).max(3_600_000).default(60_000),
          /** One export's timeout (at most intervalMs). */
          timeoutMs: z.number().int().positive().max(120_000).default(10_000),
          /** Sent with every export (use secret named values for credentials). */
          headers: z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'invalid header name'), z.string()).default({}),
        })
        .refine((o) => o.timeoutMs <= o.intervalMs, { message: 'timeoutMs must not be greater than intervalMs', path: ['timeoutMs'] })
        .optional(),
    })
    .default({ maxSeriesPerMetric: 1000 }),
  /** `llm-content-safety` defaults and local engines (docs/content-safety.md). */
  contentSafety: contentSafetySchema,
  /** Simulated backends started inside the gateway process (the demo uses these). */
  simulators: z.record(z.string().min(1), simulatorSchema).default({}),
});

export { budgetSchema, ledgerSchema, loggerSchema, modelPriceSchema, type BudgetConfig, type LedgerConfig, type LoggerConfig } from './metering-schema.ts';

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type ApiConfig = z.output<typeof apiSchema>;
export type SimulatorConfig = z.output<typeof simulatorSchema>;

export type BackendConfig = z.output<typeof backendSchema>;
export type CircuitBreakerRule = z.output<typeof circuitBreakerRuleSchema>;
export type PoolMember = z.output<typeof poolMemberSchema>;
