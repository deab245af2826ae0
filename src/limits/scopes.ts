/**
 * The `<api>` and `<operation>` children of `rate-limit` and `quota`:
 *
 * ```xml
 * <rate-limit calls="100" renewal-period="60">
 *   <api name="Azure OpenAI" calls="50" renewal-period="60">
 *     <operation id="ChatCompletions_Create" calls="10" renewal-period="60" />
 *   </api>
 * </rate-limit>
 * ```
 *
 * Each child is a limit of its own for the subscription's calls to that API (or to that operation
 * of that API), counted apart from the outer limit and checked with it ("product, API and operation
 * limits are applied independently"). An element names its target by `id` or by `name`; with both,
 * `id` wins and `name` is ignored, as APIM documents.
 * @module
 */
import type { RequestContext } from '../core/context.ts';
import type { PolicyEnv } from '../policy-docs/compile.ts';
import { PolicyDocError, type PolicyElement } from '../policy-docs/element.ts';
import { ElementReader } from '../policy-docs/reader.ts';
import { OPENAI_OPERATION_IDS } from '../providers/openai/routes.ts';

/** How a child names its API or operation. */
interface Target {
  readonly by: 'id' | 'name';
  readonly value: string;
}

interface OperationScope<T> {
  readonly target: Target;
  readonly limit: T;
}

export interface ApiScope<T> {
  readonly target: Target;
  readonly limit: T;
  readonly operations: readonly OperationScope<T>[];
}

/** A child limit that applies to a request, with the ids of what it counts. */
export interface AppliedScope<T> {
  readonly limit: T;
  readonly apiId: string;
  /** Null for an `<api>` limit. */
  readonly operationId: string | null;
}

/**
 * Reads the `<api>` children of `r` (and their `<operation>` children). `readLimit` reads a
 * child's own limit attributes; everything else on the child is a load error at its position.
 */
export function readApiScopes<T>(r: ElementReader, env: PolicyEnv, readLimit: (c: ElementReader) => T): readonly ApiScope<T>[] {
  const out: ApiScope<T>[] = [];
  for (const el of r.el.children) {
    if (el.name === 'operation') throw new PolicyDocError(`<operation> must be inside an <api> of <${r.el.name}>`, el.pos);
    if (el.name !== 'api') throw new PolicyDocError(`<${r.el.name}> does not take <${el.name}>; allowed: <api>`, el.pos);
    const c = new ElementReader(el);
    const target = readTarget(c);
    if (out.some((a) => sameTarget(a.target, target))) throw c.fail(target.by, `repeats an earlier <api ${target.by}="${target.value}">`);
    const limit = readLimit(c);
    c.noText();
    const operations: OperationScope<T>[] = [];
    for (const opEl of c.children(['operation'])) operations.push(readOperation(opEl, operations, env, readLimit));
    c.done();
    out.push({ target, limit, operations });
  }
  return out;
}

function readOperation<T>(el: PolicyElement, earlier: readonly OperationScope<T>[], env: PolicyEnv, readLimit: (c: ElementReader) => T): OperationScope<T> {
  const o = new ElementReader(el);
  const target = readTarget(o);
  if (earlier.some((e) => sameTarget(e.target, target))) throw o.fail(target.by, `repeats an earlier <operation ${target.by}="${target.value}">`);
  // Not an error: operation ids come from the API types Tollgate routes, and a document may be
  // written ahead of one; but a typo here would otherwise never limit anything, silently.
  if (!OPENAI_OPERATION_IDS.has(target.value)) {
    env.notice(
      `<operation ${target.by}="${target.value}"> matches no operation Tollgate routes (known: ${[...OPENAI_OPERATION_IDS].join(', ')}); this limit never applies`,
      el.attrs.get(target.by)?.pos ?? el.pos,
    );
  }
  const limit = readLimit(o);
  o.noText();
  o.children([]);
  o.done();
  return { target, limit };
}

function readTarget(c: ElementReader): Target {
  const id = c.literal('id');
  const name = c.literal('name');
  if (id !== undefined) {
    if (id.trim() === '') throw c.fail('id', 'must not be empty');
    return { by: 'id', value: id };
  }
  if (name !== undefined) {
    if (name.trim() === '') throw c.fail('name', 'must not be empty');
    return { by: 'name', value: name };
  }
  throw c.fail(null, 'needs the attribute "name" or "id"');
}

function sameTarget(a: Target, b: Target): boolean {
  return a.by === b.by && a.value === b.value;
}

/** `id` matches the id; `name` matches the display name or the id. */
function matches(t: Target, id: string, name: string): boolean {
  return t.value === id || (t.by === 'name' && t.value === name);
}

/**
 * The child limits that apply to the request: the first `<api>` that matches its API, then the
 * first of that element's `<operation>`s that matches its operation. Only the first match counts,
 * so an API named once by `name` and once by `id` is not counted twice by one policy.
 */
export function scopesFor<T>(scopes: readonly ApiScope<T>[], ctx: RequestContext): AppliedScope<T>[] {
  const api = ctx.api;
  if (scopes.length === 0 || api === null) return [];
  const scope = scopes.find((s) => matches(s.target, api.id, api.name));
  if (scope === undefined) return [];
  const out: AppliedScope<T>[] = [{ limit: scope.limit, apiId: api.id, operationId: null }];
  const op = ctx.operation;
  const opScope = op === null ? undefined : scope.operations.find((s) => matches(s.target, op.id, op.name));
  if (op !== null && opScope !== undefined) out.push({ limit: opScope.limit, apiId: api.id, operationId: op.id });
  return out;
}

/**
 * The part of a child limit's counter key that names what it counts: `api:<subscription>:<api>` or
 * `op:<subscription>:<api>:<operation>`, each id escaped so that ids containing `:` cannot make two
 * keys equal. Policies put it behind a head of their own (`calls-scoped:`, `quota-scoped:`) that
 * no outer or `-by-key` counter starts with.
 */
export function scopeKey(subscription: string, s: AppliedScope<unknown>): string {
  const e = encodeURIComponent;
  return s.operationId === null ? `api:${e(subscription)}:${e(s.apiId)}` : `op:${e(subscription)}:${e(s.apiId)}:${e(s.operationId)}`;
}
