/**
 * The body the backend gets, when a policy decided something on the parsed request (content
 * safety checked its prompt, redaction changed it, the semantic cache will file the answer under
 * it): the parse re-serialised, so the backend reads what the policy read.
 * @module
 */
import { Buffer } from 'node:buffer';
import type { RequestContext } from '../../core/context.ts';
import { hidesMembers } from '../../providers/openai/members.ts';

/** Bodies made here: already what the parse shows, not tested again. */
const PARSED = new WeakSet<Buffer>();

/**
 * The request's JSON (as changed by a policy, e.g. redacted) becomes its body. The gateway's own
 * `stream_options.include_usage` (spliced into the bytes, not the parsed body) is kept.
 */
export function sendParsedBody(ctx: RequestContext, json: Record<string, unknown>): void {
  let out = json;
  if (ctx.injectedStreamUsage) {
    const opts = json['stream_options'];
    out = { ...json, stream_options: { ...(typeof opts === 'object' && opts !== null ? opts : {}), include_usage: true } };
  }
  const body = Buffer.from(JSON.stringify(out));
  PARSED.add(body);
  ctx.request.body = body;
}

/**
 * Before the backend is called on a decision made on the parse: when the client's bytes may hold a
 * member the parse does not show (a repeated key; src/providers/openai/members.ts), the backend
 * gets the parse instead. Otherwise the bytes go on unchanged.
 */
export function sendWhatWasRead(ctx: RequestContext, json: Record<string, unknown>): void {
  const body = ctx.request.body;
  if (body !== null && !PARSED.has(body) && hidesMembers(body, json)) sendParsedBody(ctx, json);
}
