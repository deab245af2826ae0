/**
 * The response an error becomes: OpenAI error format, the error's status and headers, the request id.
 * Used by the handler for errors before the pipeline and by the pipeline before on-error runs
 * (on-error policies then modify it, as APIM's on-error modifies context.Response).
 * @module
 */
import type { GatewayResponse, RequestContext } from './context.ts';
import { renderErrorBody, type GatewayError } from './errors.ts';

export function errorResponse(ctx: RequestContext, err: GatewayError): GatewayResponse {
  const headers: Record<string, string | string[]> = { 'content-type': 'application/json' };
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) headers[k.toLowerCase()] = v;
  return { status: err.status, headers, body: { kind: 'buffer', data: Buffer.from(renderErrorBody(err, ctx.requestId)) } };
}
