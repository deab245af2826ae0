/**
 * Helpers for policies that act on "the message": the request in inbound/backend, the response in
 * outbound/on-error and inside return-response.
 * @module
 */
import type { GatewayResponse, RequestContext } from '../../core/context.ts';
import { GatewayError } from '../../core/errors.ts';
import { readBounded } from '../../upstream/read-bounded.ts';
import { INVALID_FIELD_VALUE, invalidHeaderValue } from '../../core/header-values.ts';

/** The response policies act on; created empty (200) when there is none yet. */
export function ensureResponse(ctx: RequestContext): GatewayResponse {
  ctx.response ??= { status: 200, headers: {}, body: { kind: 'empty' } };
  return ctx.response;
}

export type HeaderBag = Record<string, string | string[] | undefined>;

export function headersOf(ctx: RequestContext, target: 'request' | 'response'): HeaderBag {
  return target === 'request' ? (ctx.request.headers) : ensureResponse(ctx).headers;
}

/**
 * Checks a header value a policy computed, where the policy sets it: a failure is then the
 * policy's (on-error runs, the client gets a 400), never a backend failure (undici refusing to
 * send it) or a reset connection (node:http refusing to write it). See `invalidHeaderValue`.
 */
export function checkHeaderValue(name: string, value: string): string {
  if (INVALID_FIELD_VALUE.test(value)) throw invalidHeaderValue(name);
  return value;
}

export function checkHeaderName(name: string): string {
  if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) throw new GatewayError('GW_ERR_POLICY_FAILED', `"${name}" is not a valid header name.`);
  return name.toLowerCase();
}

/** The response body as bytes, reading a stream when a policy needs it (bounded). */
export async function responseBytes(ctx: RequestContext, limit: number): Promise<Buffer> {
  const res = ensureResponse(ctx);
  const body = res.body;
  if (body.kind === 'empty') return Buffer.alloc(0);
  if (body.kind === 'buffer') return body.data;
  const read = await readBounded(body.stream, limit, ctx.backendId ?? 'backend');
  if (read.kind === 'overflow') {
    read.stream.destroy();
    throw new GatewayError('GW_ERR_RESPONSE_TOO_LARGE', `The response is larger than gateway.maxResponseBytes (${limit}); a policy needed it in memory.`);
  }
  res.body = { kind: 'buffer', data: read.data };
  return read.data;
}
