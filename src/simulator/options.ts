/**
 * @module
 * Simulator options, their defaults and their validation. Bad options fail at start with an
 * error naming the option, never later on the first request.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { MAX_COMPLETION_TOKENS, MAX_LATENCY_MS } from './controls.ts';
import { SimulatorFaultError, parseStandingFault } from './standing-fault.ts';
import { COGNITIVE_SERVICES, DEFAULT_IDENTITY_HEADER, DEFAULT_TENANT_ID, type SimIdentityOptions, type SimIdentityView } from './identity.ts';
import { resolveContentSafety, type ContentSafetySim } from './content-safety.ts';
import type { StandingFault, StandingFaultConfig, StandingFaultOptions, StandingFaultView } from './standing-fault.ts';

export interface SimulatorOptions {
  /** Interface to bind; default `127.0.0.1`. */
  host?: string;
  /** Port to bind; default 0 (the OS picks one, read it from `RunningSimulator.port`). */
  port?: number;
  /** Reported in `x-sim-name` and `x-ms-region`; default `simulator`. */
  name?: string;
  /** Tokens per minute (sliding 60 s window, charged at admission); unset or 0 = unlimited. */
  tpm?: number;
  /** Requests per minute (sliding 60 s window); unset or 0 = unlimited. */
  rpm?: number;
  /** Delay before response headers, in ms; default 0. */
  latencyMs?: number;
  /** Stream pacing; default 1000; 0 = as fast as the socket accepts. */
  tokensPerSecond?: number;
  /** Fraction (0-1) of requests answered with a 500, drawn from a PRNG seeded with `seed`. */
  failRate?: number;
  /** When set, requests need `api-key: K` or `Authorization: Bearer K`. */
  requireKey?: string;
  /** Ids listed by `GET /v1/models`; default gpt-4o, gpt-4o-mini, text-embedding-3-small. */
  models?: string[];
  /** Reply length when a request sets no max tokens; default 16. */
  defaultCompletionTokens?: number;
  /** Seeds reply text and `failRate` draws; default 0. */
  seed?: number;
  /** Clock for rate limits and `created` timestamps (ms since epoch); default `Date.now`. */
  now?: () => number;
  /** Largest request body accepted (413 beyond); default 16 MiB. */
  maxBodyBytes?: number;
  /**
   * A standing fault from the start, e.g. `{ fail: '429', retryAfterSeconds: 5, rate: 1 }`: every
   * chat, completions, embeddings and model-list request (or a `rate` fraction of them) gets it
   * until `setFault(null)` or `PUT /_sim/fault` clears it. `fail` takes the `x-sim-fail` grammar.
   */
  fault?: StandingFaultConfig;
  /**
   * Model routes accept only `Authorization: Bearer` tokens this simulator issued (managed
   * identity, OAuth2 or minted), unexpired, for `https://cognitiveservices.azure.com`; keys are refused.
   */
  requireEntra?: boolean;
  /** Lifetime of issued tokens in seconds; default 3600. */
  tokenLifetimeSeconds?: number;
  /** Tenant id of the simulated Entra ID; default `11111111-2222-3333-4444-555555555555`. */
  tenantId?: string;
  /** Value `X-IDENTITY-HEADER` must carry at the managed-identity endpoint. */
  identityHeader?: string;
  /** OAuth2 client credentials accepted (`{ clientId: secret }`); default: any non-empty secret. */
  oauthClients?: Record<string, string>;
  /** The simulated Azure AI Content Safety (`/contentsafety/text:analyze`, `text:shieldPrompt`); see content-safety.ts. */
  contentSafety?: ContentSafetySimOptions;
}

export interface ContentSafetySimOptions {
  /** More triggers per category: `{ Violence: { 'some phrase': 6 } }` (severity 0-7). */
  categories?: Partial<Record<'Hate' | 'SelfHarm' | 'Sexual' | 'Violence', Record<string, number>>>;
  /** Replaces the default attack phrases of Prompt Shields. */
  attackPhrases?: string[];
  /** Blocklists by name: `{ competitors: ['acme corp'] }`. */
  blocklists?: Record<string, string[]>;
}

export interface SimulatorStats {
  /** Requests received (any path, any outcome). */
  requests: number;
  /** Requests per pathname (query removed); at most 1000 distinct keys, then `(other)`. */
  byPath: Record<string, number>;
  /** Responses whose connection the client closed before the simulator finished them. */
  clientAborts: number;
  /** Requests whose response has not closed yet. */
  inFlight: number;
  /** Answers decided by the standing fault (not by `x-sim-fail` or `failRate`). */
  faulted: number;
}

export interface RecordedRequest {
  method: string;
  /** Pathname without the query, e.g. `/openai/deployments/gpt-4o/chat/completions`. */
  path: string;
  /** The raw request target including the query, e.g. `...?api-version=2024-10-21`. */
  url: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body, or `undefined` when there was none or it was not JSON. */
  body: unknown;
}

export interface RunningSimulator {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:43121`. */
  url: string;
  port: number;
  name: string;
  /** Stops listening, drops every open connection and clears every timer. */
  close(): Promise<void>;
  /** Live counters, updated in place. */
  stats: SimulatorStats;
  /** The last 100 requests, oldest first, updated in place. */
  requests: RecordedRequest[];
  /**
   * Sets the standing fault (`spec` in the `x-sim-fail` grammar) or clears it (`null`). It applies
   * to requests that pass the key, path and body checks; a request's own `x-sim-fail` wins.
   * Throws `SimulatorFaultError` (a TypeError) on a bad spec or option, leaving the fault as it was.
   *
   * @example
   * sim.setFault('429', { retryAfterSeconds: 2 }); // a PTU deployment out of capacity
   * sim.setFault('500', { rate: 0.5 });            // half the requests fail
   * sim.setFault(null);                            // healthy again
   */
  setFault(spec: string | null, opts?: StandingFaultOptions): void;
  /** The standing fault as `GET /_sim/fault` shows it. */
  getFault(): StandingFaultView;
  /** The identity endpoints (managed identity, OAuth2, OpenID configuration, JWKS) and a token minter. */
  identity: SimIdentityView;
}

export interface ResolvedOptions {
  host: string;
  port: number;
  name: string;
  tpm: number | undefined;
  rpm: number | undefined;
  latencyMs: number;
  tokensPerSecond: number;
  failRate: number;
  requireKey: string | undefined;
  models: string[];
  defaultCompletionTokens: number;
  seed: number;
  now: () => number;
  maxBodyBytes: number;
  fault: StandingFault | undefined;
  requireEntra: boolean;
  identity: SimIdentityOptions;
  contentSafety: ContentSafetySim;
}

export const DEFAULT_MODELS: readonly string[] = ['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small'];

/** A bad option value; `code` is stable for tests and callers that map errors. */
export class SimulatorOptionError extends RangeError {
  readonly code = 'TG_SIM_INVALID_OPTION';
  constructor(option: string, expected: string, value: unknown) {
    super(`Simulator option '${option}' must be ${expected}, got ${JSON.stringify(value) ?? String(value)}`);
    this.name = 'SimulatorOptionError';
  }
}

function integerIn(option: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SimulatorOptionError(option, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

function nonEmpty(option: string, value: string | undefined): string | undefined {
  if (value !== undefined && (typeof value !== 'string' || value === '')) throw new SimulatorOptionError(option, 'a non-empty string when set', value);
  return value;
}

function resolveFault(config: StandingFaultConfig | undefined): StandingFault | undefined {
  if (config === undefined) return undefined;
  // `fail: null` would read as "no fault" here; an explicit option that does nothing is a mistake.
  if (typeof config !== 'object' || config === null || typeof config.fail !== 'string') {
    throw new SimulatorOptionError('fault', "an object with 'fail' in the x-sim-fail grammar", config);
  }
  try {
    return parseStandingFault(config.fail, config);
  } catch (error) {
    if (error instanceof SimulatorFaultError) {
      throw new SimulatorOptionError(`fault.${error.param}`, error.expected, error.value);
    }
    throw error;
  }
}

function optionalLimit(option: string, value: number | undefined): number | undefined {
  const limit = integerIn(option, value, 0, 0, Number.MAX_SAFE_INTEGER);
  return limit === 0 ? undefined : limit;
}

/** Applies defaults and validates; throws `SimulatorOptionError` on the first bad value. */
export function resolveOptions(options: SimulatorOptions): ResolvedOptions {
  const failRate = options.failRate ?? 0;
  if (!Number.isFinite(failRate) || failRate < 0 || failRate > 1) {
    throw new SimulatorOptionError('failRate', 'a number from 0 to 1', options.failRate);
  }
  const models = options.models ?? [...DEFAULT_MODELS];
  if (!Array.isArray(models) || models.some((model) => typeof model !== 'string' || model === '')) {
    throw new SimulatorOptionError('models', 'an array of non-empty strings', options.models);
  }
  if (options.requireKey !== undefined && options.requireKey === '') {
    throw new SimulatorOptionError('requireKey', 'a non-empty string when set', options.requireKey);
  }
  return {
    host: options.host ?? '127.0.0.1',
    port: integerIn('port', options.port, 0, 0, 65535),
    name: options.name ?? 'simulator',
    tpm: optionalLimit('tpm', options.tpm),
    rpm: optionalLimit('rpm', options.rpm),
    latencyMs: integerIn('latencyMs', options.latencyMs, 0, 0, MAX_LATENCY_MS),
    tokensPerSecond: integerIn('tokensPerSecond', options.tokensPerSecond, 1000, 0, 1_000_000),
    failRate,
    requireKey: options.requireKey,
    models: [...models],
    defaultCompletionTokens: integerIn(
      'defaultCompletionTokens',
      options.defaultCompletionTokens,
      16,
      0,
      MAX_COMPLETION_TOKENS,
    ),
    seed: integerIn('seed', options.seed, 0, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    now: options.now ?? Date.now,
    maxBodyBytes: integerIn('maxBodyBytes', options.maxBodyBytes, 16 * 1024 * 1024, 1, 1024 * 1024 * 1024),
    fault: resolveFault(options.fault),
    requireEntra: options.requireEntra ?? false,
    identity: {
      tenantId: nonEmpty('tenantId', options.tenantId) ?? DEFAULT_TENANT_ID,
      tokenLifetimeSeconds: integerIn('tokenLifetimeSeconds', options.tokenLifetimeSeconds, 3600, 1, 86_400),
      identityHeader: nonEmpty('identityHeader', options.identityHeader) ?? DEFAULT_IDENTITY_HEADER,
      oauthClients: options.oauthClients === undefined ? undefined : { ...options.oauthClients },
      entraAudience: COGNITIVE_SERVICES,
    },
    contentSafety: resolveContentSafety(options.contentSafety),
  };
}
