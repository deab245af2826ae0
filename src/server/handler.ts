/**
 * The data-plane request handler: the fixed stages before the policy pipeline (route, authenticate,
 * read and parse the body), the pipeline itself, the response, and the one usage record per request.
 * Stages and the statuses their failures produce are listed in docs/lifecycle.md.
 * @module
 */
import { requestId as newRequestId } from '../core/request-id.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestContext } from '../core/context.ts';
import { GatewayError, toGatewayError } from '../core/errors.ts';
import { executePipeline, runStreamEndPass } from '../core/pipeline.ts';
import type { UsageBus } from '../core/usage.ts';
import { usageRecord } from './usage-record.ts';
import { presentedKey, withoutCredentials } from '../auth/key-store.ts';
import { matchOpenAiRoute } from '../providers/openai/routes.ts';
import { parseJsonObject, withStreamUsage } from '../providers/openai/request.ts';
import type { ApiRuntime, Runtime } from '../gateway/runtime.ts';
import { classifyMcpPost, MCP_PROXY_METHODS, MCP_PROXY_OPERATION } from '../mcp/proxy.ts';
import type { Metrics } from '../observability/metrics.ts';
import { describeCause, type Logger } from '../observability/logger.ts';
import { readBody } from './read-body.ts';
import { corsPipeline, isPreflight, serveMcp, type McpHandlerStages } from './serve-mcp.ts';
import { canonicalPath } from './canonical-path.ts';
import { applyForwarded } from './forwarded.ts';
import { withoutKeyParams } from './query-keys.ts';
import { writeResponse, type WriteOutcome } from './respond.ts';
import { errorResponse } from '../core/error-response.ts';
import { headerBytes } from '../limits/header-bytes.ts';
import { estimateTokens, type TokenEstimator } from './estimate.ts';
import { reasonOf } from '../upstream/errors.ts';
import type { BudgetGate } from '../ledger/budget.ts';

export interface HandlerDeps {
  readonly runtime: () => Runtime;
  readonly usageBus: UsageBus;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly estimator: TokenEstimator;
  readonly now: () => number;
  /** Product and subscription budgets (docs/metering.md#budgets). */
  readonly budgets?: BudgetGate | undefined;
}

const isSet = (v: string | string[] | undefined): boolean => typeof v === 'string' && v !== '';

// Client-supplied request ids are kept for correlation only when they are plainly safe to echo.
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export class RequestHandler {
  readonly inFlight = new Set<RequestContext>();
  draining = false;
  readonly #deps: HandlerDeps;

  constructor(deps: HandlerDeps) {
    this.#deps = deps;
  }

  /** node:http 'request' listener. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const start = this.#deps.now();
    const runtime = this.#deps.runtime();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    // One spelling of the path for routing, policies, metering and the backend (canonical-path.ts).
    const canonical = canonicalPath(rawPath);
    const path = canonical.ok ? canonical.path : '/';
    // The gateway's id is always its own (usage records and ledger keys must be unique); a
    // client's id is kept beside it for correlation.
    const requestId = newRequestId();
    const clientId = req.headers['x-request-id'];
    const ctx = new RequestContext(
      requestId,
      {
        method: req.method ?? 'GET',
        path,
        query: withoutKeyParams(q < 0 ? '' : rawUrl.slice(q)),
        headers: req.headers,
        ip: applyForwarded(req.headers, req.socket.remoteAddress ?? '', runtime.trustedProxies),
        suffix: path,
        body: null,
        json: null,
        matchedParameters: new Map(),
      },
      start,
    );
    if (typeof clientId === 'string' && SAFE_REQUEST_ID.test(clientId)) ctx.clientRequestId = clientId;
    this.inFlight.add(ctx);
    res.on('close', () => {
      if (!res.writableFinished) ctx.abort();
    });
    void this.#serve(ctx, req, res, runtime, canonical.ok ? null : canonical.reason);
  };

  /** Never rejects: a failure past the error handling below is logged and the connection dropped. */
  async #serve(ctx: RequestContext, req: IncomingMessage, res: ServerResponse, runtime: Runtime, pathError: string | null): Promise<void> {
    try {
      try {
        if (this.draining) throw new GatewayError('GW_ERR_SHUTTING_DOWN', 'The gateway is shutting down; retry on another instance.', { headers: { 'retry-after': '1' } });
        // CONNECT asks for a tunnel, which would bypass every policy; its target is not even a path.
        if (ctx.request.method === 'CONNECT') throw new GatewayError('GW_ERR_METHOD_NOT_ALLOWED', 'CONNECT is not allowed: the gateway does not open tunnels.');
        if (pathError !== null) throw new GatewayError('GW_ERR_INVALID_PATH', `The request path is refused: ${pathError}.`);
        const api = runtime.router.match(ctx.request.path);
        if (api === undefined) throw new GatewayError('GW_ERR_ROUTE_NOT_FOUND', `No API is mounted at ${ctx.request.path}.`);
        // A backend may echo TRACE back, headers included (RFC 9110 §9.3.8).
        if (ctx.request.method === 'TRACE' && !api.allowTrace) throw new GatewayError('GW_ERR_METHOD_NOT_ALLOWED', 'TRACE is not allowed on this API.');
        if (api.mcp !== null && ctx.request.path === api.mcp.path) {
          // The MCP server writes its own answers; a preflight's is written below.
          if (await serveMcp(ctx, req, res, runtime, api, api.mcp, this.#mcpStages)) return;
        } else {
          await this.#prepare(ctx, req, runtime, api);
        }
        if (ctx.response === null) {
          // Budgets reserve with the limit policies, in the one admission after the inbound section.
          if (!ctx.preflight) this.#deps.budgets?.claim(ctx, runtime.config);
          const pipeline = runtime.pipelineFor(api.id, ctx.productId, ctx.operation?.id ?? null);
          // A CORS preflight carries no key: only the cors policy may act on it (as in APIM), so no
          // other policy (send-request, expressions, trace, limits) runs for an anonymous caller.
          await executePipeline(ctx.preflight ? corsPipeline(pipeline) : pipeline, ctx);
          if (ctx.preflight && ctx.response === null) throw new GatewayError('GW_ERR_METHOD_NOT_ALLOWED', 'CORS preflight request not handled: no cors policy allows it.');
        }
      } catch (err) {
        ctx.lastError = toGatewayError(err);
      }
      ctx.response ??= errorResponse(ctx, ctx.lastError ?? toGatewayError(new Error('no response')));
      if (ctx.lastError !== null && ctx.lastError.status >= 500) {
        const cause = describeCause(ctx.lastError.cause);
        if (cause !== undefined) cause.message = runtime.redact(cause.message);
        // A client that hung up aborts its backend call, which surfaces as a backend error: not a
        // backend fault (no breaker count either), so not a warning an operator should chase.
        const clientGone = res.destroyed && ctx.signal.aborted;
        if (clientGone) this.#deps.logger.debug({ requestId: ctx.requestId, code: ctx.lastError.code }, 'client closed the connection before the answer');
        else this.#deps.logger.warn({ requestId: ctx.requestId, code: ctx.lastError.code, cause }, ctx.lastError.message);
      }
      const written = writeResponse(ctx, res, this.draining, this.#deps.now, runtime.config.gateway.maxStreamDurationMs);
      const outcome = written instanceof Promise ? await written : written;
      ctx.responseHeaderBytes = headerBytes(res);
      settleAttempt(ctx, outcome);
      if (outcome.streamError !== undefined) {
        // After the first byte the client only sees an error event; the operator sees which member failed.
        const cause = describeCause(outcome.streamError.cause);
        if (cause !== undefined) cause.message = runtime.redact(cause.message);
        this.#deps.logger.warn({ requestId: ctx.requestId, code: outcome.streamError.code, backend: ctx.attempt?.backend.id ?? ctx.backendId, cause }, outcome.streamError.message);
      }
      this.#estimate(ctx, outcome);
      if (ctx.streamEndSection !== null) await this.#streamEnd(ctx, runtime);
      this.#finish(ctx, outcome);
    } catch (err) {
      this.#deps.logger.error({ requestId: ctx.requestId, err: describeCause(err) }, 'request handler failed');
      if (!res.headersSent) res.destroy();
    } finally {
      // In the function, not in .catch().finally() on its promise: two promises and closures fewer per request.
      this.inFlight.delete(ctx);
    }
  }

  /** What an API's MCP endpoint (serve-mcp.ts) shares with every other request. */
  readonly #mcpStages: McpHandlerStages = {
    authenticate: (ctx, runtime, api) => this.#authenticate(ctx, runtime, api),
    finish: (ctx, outcome) => this.#finish(ctx, outcome),
    dispatch: this.handle,
  };

  /** Route → authenticate → body. May answer directly (models list) by setting ctx.response. */
  async #prepare(ctx: RequestContext, req: IncomingMessage, runtime: Runtime, api: ApiRuntime): Promise<void> {
    const request = ctx.request;
    ctx.api = api.info;
    ctx.backendId = api.defaultBackendId;
    request.suffix = request.path.slice(api.prefix.length) || '/';
    ctx.preflight = isPreflight(ctx);
    const routeMethod = ctx.preflight ? String(request.headers['access-control-request-method']).toUpperCase() : request.method;
    let route: ReturnType<typeof matchOpenAiRoute> | undefined;
    if (api.type === 'mcp') {
      // One endpoint, the backend's own URL: no subpaths, only Streamable HTTP's methods.
      if (request.suffix !== '/') throw new GatewayError('GW_ERR_ROUTE_NOT_FOUND', `No operation matches ${request.method} ${request.path}: the MCP server is at the API's path.`);
      request.suffix = '';
      if (!ctx.preflight && !MCP_PROXY_METHODS.has(request.method)) {
        throw new GatewayError('GW_ERR_METHOD_NOT_ALLOWED', `${request.method} is not allowed on an MCP server: use POST, GET or DELETE.`, { headers: { allow: 'POST, GET, DELETE' } });
      }
      ctx.operation = MCP_PROXY_OPERATION;
    } else if (api.type === 'openai') {
      route = matchOpenAiRoute(routeMethod, request.suffix);
      if (!route.ok) {
        if (route.reason === 'method') throw new GatewayError('GW_ERR_METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${request.path}.`);
        throw new GatewayError('GW_ERR_ROUTE_NOT_FOUND', `No operation matches ${request.method} ${request.path}.`);
      }
      ctx.operation = route.route.operation;
      ctx.metering = route.route.spec;
      if (route.route.deployment !== null) {
        ctx.deployment = route.route.deployment;
        request.matchedParameters.set('deployment-id', route.route.deployment);
      }
    } else if (api.operations !== null) {
      const m = api.operations.match(routeMethod, request.suffix);
      if (m.ok) {
        ctx.operation = m.info;
        for (const [name, value] of m.params) request.matchedParameters.set(name, value);
      } else if (api.passThrough) {
        ctx.operation = { id: 'Passthrough', name: 'Passthrough', method: request.method, urlTemplate: '/*' };
      } else if (m.reason === 'method') {
        throw new GatewayError('GW_ERR_METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${request.path}.`);
      } else {
        throw new GatewayError('GW_ERR_ROUTE_NOT_FOUND', `No operation matches ${request.method} ${request.path}.`);
      }
    } else {
      ctx.operation = { id: 'Passthrough', name: 'Passthrough', method: request.method, urlTemplate: '/*' };
    }

    // A preflight carries no credentials and no body: only the inbound section answers it.
    if (ctx.preflight) return;
    this.#authenticate(ctx, runtime, api);

    const method = request.method;
    if (method !== 'GET' && method !== 'HEAD' && method !== 'DELETE' && method !== 'OPTIONS') {
      request.body = await readBody(req, runtime.config.gateway.maxBodyBytes);
    }
    if (api.type === 'mcp') {
      // Always set on a pass-through MCP API ("" when not applicable), so policies may cast them.
      const call = method === 'POST' ? classifyMcpPost(request.body) : { method: '', tool: '' };
      ctx.variables.set('mcp-method', call.method);
      ctx.variables.set('mcp-tool', call.tool);
      return;
    }
    if (route === undefined || !route.ok) return;
    const spec = route.route.spec;
    if (spec.jsonBody && request.body !== null) {
      const json = parseJsonObject(request.body);
      request.json = json;
      if (route.route.family === 'v1' && typeof json['model'] === 'string') {
        // On the OpenAI surface the body's model is the deployment: policies written for Azure's
        // /deployments/{deployment-id}/ paths (per-model choose) read it the same way.
        ctx.deployment = json['model'];
        request.matchedParameters.set('deployment-id', json['model']);
      }
      ctx.streaming = json['stream'] === true;
      if (ctx.streaming && (spec.usage === 'chat' || spec.usage === 'completions')) {
        const changed = withStreamUsage(request.body, json);
        if (changed !== undefined) {
          request.body = changed;
          ctx.injectedStreamUsage = true;
        }
      }
    }
    if (api.deployments !== null) {
      if (spec.id === 'Models_List') {
        ctx.response = modelsList(api.deployments);
        return;
      }
      if (ctx.deployment === null && spec.jsonBody) {
        throw new GatewayError('GW_ERR_INVALID_REQUEST', 'The request must name a model (deployment).', { param: 'model' });
      }
      if (ctx.deployment !== null && !api.deployments.has(ctx.deployment)) {
        throw new GatewayError('GW_ERR_DEPLOYMENT_NOT_FOUND', `The deployment "${ctx.deployment}" does not exist on this API.`, { param: 'model' });
      }
    }
  }

  #authenticate(ctx: RequestContext, runtime: Runtime, api: ApiRuntime): void {
    const headers = ctx.request.headers;
    // `Authorization: Bearer` is the subscription key only when no key header is sent and the
    // API requires a subscription (OpenAI clients), or when it names a subscription; otherwise it
    // belongs to the policies (validate-jwt, validate-azure-ad-token) and stays on the request.
    const keyHeader = isSet(headers['api-key']) || isSet(headers['ocp-apim-subscription-key']);
    let key = presentedKey(headers);
    const bearerIsKey = !keyHeader && key !== undefined && (api.subscriptionRequired || runtime.keyStore.find(key) !== undefined);
    if (!keyHeader && !bearerIsKey) key = undefined;
    // The client's gateway credentials stop here: never forwarded, never visible to policies'
    // header reads (the key stays available as context.Subscription.Key).
    if (headers['api-key'] !== undefined || headers['ocp-apim-subscription-key'] !== undefined || bearerIsKey) {
      ctx.request.headers = withoutCredentials(headers, bearerIsKey);
    }
    if (!bearerIsKey && typeof headers.authorization === 'string') ctx.clientAuthorization = headers.authorization;
    if (key !== undefined) ctx.presentedKey = key;
    if (key === undefined) {
      if (!api.subscriptionRequired) return;
      throw new GatewayError(
        'GW_ERR_AUTH_MISSING_KEY',
        'Access denied due to missing subscription key. Send it as the api-key header, the Ocp-Apim-Subscription-Key header, or Authorization: Bearer.',
      );
    }
    const sub = runtime.keyStore.find(key);
    if (sub === undefined) {
      throw new GatewayError('GW_ERR_AUTH_INVALID_KEY', 'Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.');
    }
    if (runtime.productApis.get(sub.productId)?.has(api.id) !== true) {
      throw new GatewayError('GW_ERR_AUTH_KEY_NOT_IN_SCOPE', 'Access denied: this subscription key does not grant access to this API.');
    }
    if (sub.state !== 'active') {
      throw new GatewayError('GW_ERR_AUTH_SUBSCRIPTION_INACTIVE', 'Access denied: the subscription is not active.');
    }
    ctx.subscription = sub;
    ctx.productId = sub.productId;
  }

  /** A successful answer whose backend reported no usage is counted locally (before the stream-end pass reads it). */
  #estimate(ctx: RequestContext, outcome: WriteOutcome): void {
    const response = ctx.response;
    if (ctx.tokens === null && ctx.metering !== null && ctx.metering.usage !== 'none' && response !== null && response.status < 300 && ctx.timings.upstreamHeaders !== null) {
      estimateTokens(ctx, outcome.tap, this.#deps.estimator);
    }
  }

  /**
   * The outbound policies a streamed answer held back until its end (log-to-eventhub,
   * emit-metric and their inputs), now with the final usage. The client has its answer: a failure
   * here is logged, never sent, and the usage record is published all the same.
   */
  async #streamEnd(ctx: RequestContext, runtime: Runtime): Promise<void> {
    try {
      await runStreamEndPass(ctx);
    } catch (err) {
      const e = toGatewayError(err);
      const cause = describeCause(e.cause);
      if (cause !== undefined) cause.message = runtime.redact(cause.message);
      this.#deps.logger.warn({ requestId: ctx.requestId, code: e.code, cause }, `stream-end policies failed: ${e.message}`);
    }
  }

  #finish(ctx: RequestContext, outcome: WriteOutcome): void {
    const end = this.#deps.now();
    ctx.timings.end = end;
    const response = ctx.response;
    const status = outcome.clientGone ? 499 : (response?.status ?? 500);
    const { metrics } = this.#deps;
    const apiId = ctx.api?.id ?? 'none';
    const operation = ctx.operation?.id ?? 'none';
    metrics.recordRequest(apiId, operation, status, (end - ctx.timings.start) / 1000);
    const tokens = ctx.tokens;
    if (tokens !== null) {
      const deployment = ctx.deployment ?? 'none';
      metrics.recordTokens(apiId, deployment, 'prompt', tokens.promptTokens);
      metrics.recordTokens(apiId, deployment, 'completion', tokens.completionTokens);
    }
    for (const finish of ctx.finishers) {
      try {
        finish(ctx, status);
      } catch (err) {
        this.#deps.logger.error({ requestId: ctx.requestId, err: describeCause(err) }, 'request finisher failed');
      }
    }
    // Built only when a consumer takes it (a ledger, the debug log): without, it is work for nothing.
    const bus = this.#deps.usageBus;
    if (bus.wanted) bus.publish(usageRecord(ctx, status, end));
  }
}

/**
 * A streamed answer's outcome, for the backend's circuit breaker: a cut or stalled stream is a
 * failure like a 5xx, a client that left is no outcome at all (cancels never trip a breaker).
 */
function settleAttempt(ctx: RequestContext, outcome: WriteOutcome): void {
  const attempt = ctx.attempt;
  if (attempt === null || attempt.settled) return;
  if (outcome.streamError !== undefined) attempt.failed(reasonOf(outcome.streamError.code));
  else if (outcome.clientGone) attempt.cancelled();
  else attempt.succeeded();
}

function modelsList(deployments: ReadonlySet<string>): NonNullable<RequestContext['response']> {
  const data = [...deployments].map((id) => ({ id, object: 'model', created: 0, owned_by: 'tollgate' }));
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: { kind: 'buffer', data: Buffer.from(JSON.stringify({ object: 'list', data })) },
  };
}
