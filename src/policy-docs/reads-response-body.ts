/**
 * Whether a section's policy expressions read the backend's answer (`context.Response.Body`),
 * decided once at load like the other "who reads what" decisions (src/limits/early-admission.ts).
 * In APIM an outbound policy can always read the body; Tollgate passes most answers through as
 * streams and holds only what it must. A pipeline whose outbound section reads the body has the
 * backend's answer held (bounded by `gateway.maxResponseBytes`) so the expression sees it; every
 * other pipeline keeps streaming. The match is textual, on expression attributes and texts (and
 * the fragments they include): reading the body under another name (`var r = context.Response;
 * r.Body`) is not seen, while a false match only costs holding a bounded answer.
 * @module
 */
import type { PolicyElement } from './element.ts';

const READS_BODY = /\bResponse\s*\??\.\s*Body\b/;
const EXPRESSION = /^\s*@[({]/;

/** Whether an expression in `elements` (or below them, or in a fragment they include) reads `context.Response.Body`. */
export function readsResponseBody(elements: readonly PolicyElement[], fragments: ReadonlyMap<string, PolicyElement>, seen = new Set<string>()): boolean {
  for (const el of elements) {
    for (const v of [...el.attrs.values(), ...(el.text === null ? [] : [el.text])]) if (EXPRESSION.test(v.value) && READS_BODY.test(v.value)) return true;
    if (el.name === 'include-fragment') {
      const id = el.attrs.get('fragment-id')?.value;
      if (id === undefined || seen.has(id)) continue;
      seen.add(id);
      const fragment = fragments.get(id);
      if (fragment !== undefined && readsResponseBody(fragment.children, fragments, seen)) return true;
      continue;
    }
    if (readsResponseBody(el.children, fragments, seen)) return true;
  }
  return false;
}
