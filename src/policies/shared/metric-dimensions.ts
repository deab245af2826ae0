/**
 * The `<dimension>` children of emit-metric and the token metric policies: a name and a value (a
 * constant or an expression). APIM's default dimension names resolve without a value; any other
 * dimension without a value is "N/A". At most 10 custom dimensions per policy (APIM's limit,
 * from Azure Monitor's 10 dimension keys per metric).
 * @module
 */
import type { RequestContext } from '../../core/context.ts';
import { ElementReader } from '../../policy-docs/reader.ts';
import type { Dyn } from '../../policy-docs/values.ts';

export const MAX_DIMENSIONS = 10;

const DEFAULT_DIMENSIONS: Readonly<Record<string, (ctx: RequestContext) => string>> = {
  'api id': (ctx) => ctx.api?.id ?? 'N/A',
  'operation id': (ctx) => ctx.operation?.id ?? 'N/A',
  'product id': (ctx) => ctx.productId ?? 'N/A',
  'subscription id': (ctx) => ctx.subscription?.id ?? 'N/A',
  // Tollgate has no users (context.User is null) and one region.
  'user id': () => 'N/A',
  location: () => 'local',
  'gateway id': () => 'tollgate',
  'client ip address': (ctx) => ctx.request.ip || 'N/A',
  // The member that answered when there was one, else the backend (or pool) the request was sent to.
  'backend id': (ctx) => ctx.attempt?.backend.id ?? ctx.backendId ?? 'N/A',
};

export interface Dimension {
  readonly name: string;
  readonly value: Dyn<string>;
  /** Resolved from the context (a default dimension without a value), not an expression. */
  readonly isDefault: boolean;
}

/** Reads the `<dimension name value>` children (load errors for a missing name, too many, a repeat). */
export function readDimensions(r: ElementReader): Dimension[] {
  const dims: Dimension[] = [];
  const seen = new Set<string>();
  for (const child of r.children(['dimension'])) {
    const c = new ElementReader(child);
    const name = c.literal('name', true) as string;
    const v = c.string('value');
    c.noText();
    c.done();
    const key = name.trim().toLowerCase();
    if (seen.has(key)) throw c.fail('name', `repeats the dimension "${name}"`);
    seen.add(key);
    const fallback = DEFAULT_DIMENSIONS[key];
    dims.push({ name, value: v ?? fallback ?? (() => 'N/A'), isDefault: v === undefined });
  }
  if (dims.length > MAX_DIMENSIONS) throw r.fail(null, `takes at most ${MAX_DIMENSIONS} dimensions`);
  return dims;
}
