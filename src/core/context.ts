/**
 * The per-request context every stage and policy sees: APIM's `context` (Request, Response,
 * Subscription, Product, Api, Operation, Variables, RequestId, Deployment, LastError) plus the
 * gateway's own bookkeeping (timings, usage, abort signal). docs/lifecycle.md describes who sets what.
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { GatewayError } from './errors.ts';
import type { TokenCounts } from './usage.ts';
import type { Attempt } from '../upstream/pool.ts';

export interface OperationInfo {
  /** Operation id as APIM's import of the Azure OpenAI spec names it, e.g. `ChatCompletions_Create`. */
  readonly id: string;
  readonly name: string;
  readonly method: string;
  readonly urlTemplate: string;
}

export interface UserInfo {
  readonly id: string;
  readonly email: string | null;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly note: string | null;
  readonly groups: readonly { readonly id: string; readonly name: string }[];
}

export interface SubscriptionInfo {
  readonly id: string;
  readonly name: string;
  readonly productId: string;
  readonly state: 'active' | 'suspended';
  /** The subscription's owner (`context.User`), when configured. */
  readonly user?: UserInfo | null;
}

export interface ApiInfo {
  readonly id: string;
  readonly name: string;
  /** Mount path without slashes ("" for the root). */
  readonly path: string;
}

export interface GatewayRequest {
  /** Method forwarded to the backend (`set-method` may change it). */
  method: string;
  /** The canonical path (src/server/canonical-path.ts), without the query string. */
  readonly path: string;
  /** Query string including its leading `?`, or "" (`set-query-parameter`, `rewrite-uri` may change it). */
  query: string;
  /** node:http's headers, or a copy without the client's gateway credentials once they are checked. */
  headers: IncomingHttpHeaders;
  readonly ip: string;
  /** Path below the API's mount path, e.g. `/deployments/gpt-4o/chat/completions`. */
  suffix: string;
  /** Buffered request body, when a stage read it. */
  body: Buffer | null;
  /** Parsed JSON body, when the operation is a JSON operation. */
  json: Record<string, unknown> | null;
  /** Values parsed from the route template, e.g. `deployment-id`. */
  readonly matchedParameters: Map<string, string>;
}

/** A response body is either bytes we hold or a backend stream we pass through. */
export type ResponseBody =
  | { readonly kind: 'empty' }
  | { readonly kind: 'buffer'; readonly data: Buffer }
  | { readonly kind: 'stream'; readonly stream: Readable; readonly sse: boolean };

export interface GatewayResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string | string[]>;
  body: ResponseBody;
}

export interface Timings {
  /** performance.now() when the request arrived. */
  readonly start: number;
  upstreamStart: number | null;
  upstreamHeaders: number | null;
  firstByte: number | null;
  end: number | null;
}

/** How the response of the matched operation is metered (set by the API's provider). */
export interface Metering {
  readonly usage: 'chat' | 'completions' | 'embeddings' | 'responses' | 'none';
  /** A stream of this operation ends with `data: [DONE]`; ending without it means it was cut. */
  readonly sseEndsWithDone: boolean;
}

/** What a cache lookup found, for the response headers and the usage record (src/cache). */
export interface CacheOutcome {
  readonly kind: 'semantic' | 'response';
  readonly result: 'hit' | 'miss';
  /** Similarity of the nearest entry (semantic cache), when there was one. */
  readonly score: number | null;
  /** Prompt tokens of the lookup's embeddings call (0 for the response cache). */
  readonly embeddingTokens: number;
}

/**
 * What a cache lookup that missed leaves for its store policy (outbound): the semantic entry's
 * partition and vector, or the response cache's key. A plain field rather than a WeakMap keyed by
 * the context: a WeakMap entry per request costs the garbage collector measurably (ephemerons).
 */
export type PendingCacheStore =
  | { readonly kind: 'semantic'; readonly partition: string; readonly vector: Float32Array }
  | { readonly kind: 'response'; readonly key: string };

export class RequestContext {
  /** The gateway's own id for this request, unique (usage records and ledger keys). */
  readonly requestId: string;
  /** The client's `x-request-id`, when it sent a safe one: kept for correlation, echoed back. */
  clientRequestId: string | null = null;
  readonly request: GatewayRequest;
  readonly timings: Timings;
  #variables: Map<string, unknown> | null = null;
  /** `context.Variables`: made on first use (most requests of a plain API never touch it). */
  get variables(): Map<string, unknown> {
    return (this.#variables ??= new Map<string, unknown>());
  }
  /** Aborted when the client goes away or the gateway must stop the request. */
  readonly abortController = new AbortController();

  api: ApiInfo | null = null;
  operation: OperationInfo | null = null;
  subscription: SubscriptionInfo | null = null;
  productId: string | null = null;
  deployment: string | null = null;
  /** Backend chosen for forwarding (the API default, or set-backend-service). */
  backendId: string | null = null;
  /** A URL set by `set-backend-service base-url`; wins over `backendId` (and carries no backend credentials). */
  backendUrl: string | null = null;
  /** The `backendUrl` was computed at run time (an expression): it goes through the SSRF guard. */
  backendUrlComputed = false;
  /**
   * The try of a backend whose response is on the context. A streamed answer's outcome is known
   * only when the stream ends, so the request's finish reports it to the backend's breaker.
   */
  attempt: Attempt | null = null;
  /** Backends this request already failed on: a retry prefers another pool member. */
  failedBackends: Set<string> | null = null;
  /**
   * A token from `authentication-managed-identity`: sent as `Authorization: Bearer` to the backend
   * in place of the backend's configured credentials. Never logged.
   */
  backendToken: string | null = null;
  /**
   * The client's own `Authorization` header when it is not the subscription key: policies read it
   * (validate-jwt), but it is not forwarded to the backend unless a policy changes it.
   */
  clientAuthorization: string | null = null;
  /** The subscription key the client presented (for `context.Subscription.Key`); never forwarded or logged. */
  presentedKey: string | null = null;
  response: GatewayResponse | null = null;
  lastError: GatewayError | null = null;
  /** True once a policy produced the final response (return-response): later sections are skipped. */
  ended = false;
  /** The pipeline's outbound reads `context.Response.Body`: forward-request holds a non-SSE answer (bounded). */
  holdResponseBody = false;
  cache: CacheOutcome | null = null;
  /** Set by a cache lookup that missed; taken by the matching store policy. */
  pendingCacheStore: PendingCacheStore | null = null;
  /**
   * Set by a cache lookup that hit (APIM: "processing will continue from the step in the response
   * pipeline that is after the corresponding cache-store"): the rest of the inbound section is
   * skipped, the backend too, and outbound resumes after the first top-level policy named here.
   */
  cacheHitStores: ReadonlySet<string> | null = null;
  /** True from a cache hit to the end of the inbound section: runSection stops there. */
  cacheHitInbound = false;

  /** A cache lookup answered: see `cacheHitStores` for what runs after it. */
  answeredFromCache(stores: ReadonlySet<string>): void {
    this.cacheHitStores = stores;
    this.cacheHitInbound = true;
  }
  metering: Metering | null = null;
  /** A CORS preflight (OPTIONS with Access-Control-Request-Method): no key, only inbound runs. */
  preflight = false;
  /** Headers added to whatever response is finally sent (e.g. CORS headers, remaining tokens). */
  extraResponseHeaders: Record<string, string> | null = null;
  /**
   * Limit counters the inbound policies asked for, reserved together in one store call when the
   * inbound section ends (see src/limits/admission.ts).
   */
  admission: { flush(ctx: RequestContext): Promise<void> | undefined } | null = null;
  /** Run once when the request is over (settle reservations to real usage). Never throw. */
  readonly finishers: Array<(ctx: RequestContext, status: number) => void> = [];
  /**
   * Checks of the backend's answer registered by inbound policies (llm-content-safety's
   * enforce-on-completions): run after the backend section, before outbound; one that throws
   * sends the request to on-error. Null (the common case) costs one comparison.
   */
  responseChecks: Array<(ctx: RequestContext) => void | Promise<void>> | null = null;
  /** Run just before the response headers are written (e.g. a tokens-consumed header). */
  readonly beforeRespond: Array<(ctx: RequestContext) => void> = [];
  /** Body bytes sent to the client (for bandwidth quotas). */
  responseBytes = 0;
  /** Status line and header bytes sent to the client (for bandwidth quotas). */
  responseHeaderBytes = 0;
  /** The client asked for `stream: true`. */
  streaming = false;
  /** The gateway added `stream_options.include_usage`, so the usage chunk must be hidden from the client. */
  injectedStreamUsage = false;
  /** Token counts once known (from a JSON body immediately; from a stream at its end). */
  tokens: TokenCounts | null = null;
  /** Where `tokens` came from. */
  tokenSource: 'backend' | 'estimated' | 'none' = 'none';
  /** Model the backend reported. */
  responseModel: string | null = null;
  /**
   * Which outbound pass runs (src/core/pipeline.ts): 0 normal; 1 the headers pass of a streamed
   * answer (usage-dependent policies wait); 2 the stream-end pass (only those and their inputs run).
   */
  outboundPass: 0 | 1 | 2 = 0;
  /** The outbound section to run again when the stream ends, when a policy in it waits for the usage. */
  streamEndSection: ReadonlyArray<{ readonly name: string; run(ctx: RequestContext): void | Promise<void> }> | null = null;

  constructor(requestId: string, request: GatewayRequest, start: number) {
    this.requestId = requestId;
    this.request = request;
    this.timings = { start, upstreamStart: null, upstreamHeaders: null, firstByte: null, end: null };
  }

  get signal(): AbortSignal {
    return this.abortController.signal;
  }

  /**
   * The backend exchange in flight on this request's own signal, cancelled by `abort()`. A field,
   * not an 'abort' listener on the signal: Node's EventTarget makes adding and removing a listener
   * per request measurable (src/upstream/exchange.ts).
   */
  onAbort: (() => void) | null = null;

  /** Aborts the request (the client left, the gateway stops): the signal, then the exchange in flight. */
  abort(): void {
    this.abortController.abort();
    const cancel = this.onAbort;
    this.onAbort = null;
    cancel?.();
  }
}
