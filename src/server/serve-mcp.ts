/**
 * An API's MCP endpoint (`apis.<id>.mcp`, docs/mcp.md) as the handler serves it: CORS preflights
 * answered by the API's cors policy, POSTs authenticated, read within the body bound and answered
 * by the MCP server, whose tool calls come back in through the handler and run the pipeline of
 * their operation.
 * @module
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { RequestContext } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import { executePipeline, type Pipeline } from '../core/pipeline.ts';
import type { ApiRuntime, Runtime } from '../gateway/runtime.ts';
import type { McpEndpoint } from '../mcp/endpoint.ts';
import { readBody } from './read-body.ts';
import type { WriteOutcome } from './respond.ts';

/** The handler's stages the MCP endpoint shares with every other request. */
export interface McpHandlerStages {
  authenticate(ctx: RequestContext, runtime: Runtime, api: ApiRuntime): void;
  finish(ctx: RequestContext, outcome: WriteOutcome): void;
  /** The gateway's own request listener: tool calls go through it. */
  readonly dispatch: RequestListener;
}

/**
 * Returns true when the MCP server wrote the answer itself (a POST); false when `ctx.response`
 * holds the answer for the handler to write (a preflight the cors policy answered). Errors are
 * thrown for the handler to render, as on any other path.
 *
 * The MCP request itself runs only the cors policies: a limit on tool calls counts tool calls, not
 * the client's `initialize` and `tools/list`.
 */
export async function serveMcp(ctx: RequestContext, req: IncomingMessage, res: ServerResponse, runtime: Runtime, api: ApiRuntime, mcp: McpEndpoint, stages: McpHandlerStages): Promise<boolean> {
  ctx.api = api.info;
  ctx.operation = MCP_OPERATION;
  if (isPreflight(ctx)) {
    // As on a REST operation: no key, no body, nothing but the cors policies. The endpoint is no
    // operation of the spec, and a request without a key has no product: global and API scopes.
    ctx.preflight = true;
    await executePipeline(corsPipeline(runtime.pipelineFor(api.id, null, null)), ctx);
    if (ctx.response === null) throw new GatewayError('GW_ERR_METHOD_NOT_ALLOWED', 'CORS preflight request not handled: no cors policy allows it.');
    return false;
  }
  if (ctx.request.method !== 'POST') {
    // Stateless: no server-to-client stream to open (GET), no session to end (DELETE).
    throw new GatewayError('GW_ERR_METHOD_NOT_ALLOWED', `${ctx.request.method} is not allowed on the MCP endpoint: send MCP messages with POST.`, { headers: { allow: 'POST' } });
  }
  stages.authenticate(ctx, runtime, api);
  // The MCP server reads the request's own headers: they lose the credentials too.
  req.headers = ctx.request.headers;
  const body = await readBody(req, runtime.config.gateway.maxBodyBytes);
  // The cors policy runs where it runs for a REST call: after the key and the body, so product
  // scope applies, and a refusal before it (401, 413, 405 above) carries no CORS headers, as on
  // the API's operations. The SDK transport writes the answer to `res` itself: the headers go
  // there first (its writeHead keeps them).
  await executePipeline(corsPipeline(runtime.pipelineFor(api.id, ctx.productId, null)), ctx);
  const cors = ctx.extraResponseHeaders;
  if (cors !== null) for (const [name, value] of Object.entries(cors)) res.setHeader(name, value);
  await mcp.handle(req, res, body, { headers: ctx.request.headers, key: ctx.presentedKey, ip: ctx.request.ip }, stages.dispatch);
  ctx.response = { status: res.statusCode, headers: {}, body: { kind: 'buffer', data: EMPTY } };
  stages.finish(ctx, { clientGone: !res.writableFinished, tap: null });
  return true;
}

/** A CORS preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method`. */
export function isPreflight(ctx: RequestContext): boolean {
  const h = ctx.request.headers;
  return ctx.request.method === 'OPTIONS' && typeof h.origin === 'string' && typeof h['access-control-request-method'] === 'string';
}

const CORS_PIPELINES = new WeakMap<Pipeline, Pipeline>();

/**
 * The inbound section's cors policies, nothing else: all a preflight runs (it carries no key, so
 * no send-request, expression, trace or limit may run for it), and all the MCP endpoint's own
 * request runs.
 */
export function corsPipeline(pipeline: Pipeline): Pipeline {
  let p = CORS_PIPELINES.get(pipeline);
  if (p === undefined) {
    p = { inbound: pipeline.inbound.filter((policy) => policy.name === 'cors'), backend: [], outbound: [], onError: [] };
    CORS_PIPELINES.set(pipeline, p);
  }
  return p;
}

const MCP_OPERATION = { id: 'mcp', name: 'MCP endpoint', method: 'POST', urlTemplate: '/mcp' } as const;
const EMPTY = Buffer.alloc(0);
