/**
 * Where a limit policy reports what it counted: response headers (on every response, including
 * errors) and context variables, under the names the policy's attributes give.
 * @module
 */
import type { RequestContext } from '../core/context.ts';

/** `name` as headerNameAttr (attrs.ts) gives it: checked and lower-cased at load. */
export function setHeader(ctx: RequestContext, name: string | undefined, value: number | string): void {
  if (name === undefined) return;
  ctx.extraResponseHeaders ??= {};
  ctx.extraResponseHeaders[name] = String(value);
}

export function setVariable(ctx: RequestContext, name: string | undefined, value: number): void {
  if (name !== undefined) ctx.variables.set(name, value);
}

export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
