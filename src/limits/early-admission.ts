/**
 * When a limit policy's output variables are read by the policies after it, its admission moves
 * up to that point. Limits are normally reserved together, in one store call, when the inbound
 * section ends (src/limits/admission.ts). But in APIM a limit counts where it stands, so a
 * `remaining-tokens-variable-name` or `remaining-calls-variable-name` is readable by the very next
 * policy, and documents use that (a `choose` on the tokens left, a header from them). Whether a
 * document does is known when it loads: a policy followed, in the same section, by an expression
 * that names one of the variables its limits set is wrapped so that the request's admission batch
 * is flushed right after it. Every other document keeps the single call at the end of inbound and
 * pays nothing for this.
 * @module
 */
import type { Policy } from '../core/pipeline.ts';
import type { PolicyElement } from '../policy-docs/element.ts';

/** The policies that claim limits through the admission batch. */
const LIMIT_POLICIES: ReadonlySet<string> = new Set(['llm-token-limit', 'azure-openai-token-limit', 'rate-limit', 'rate-limit-by-key', 'quota', 'quota-by-key']);

type Fragments = ReadonlyMap<string, PolicyElement>;

/** The elements `el` stands for: an include-fragment's fragment (once per walk: fragments may not recurse). */
function expand(el: PolicyElement, fragments: Fragments, seen: Set<string>): readonly PolicyElement[] {
  if (el.name !== 'include-fragment') return el.children;
  const id = el.attrs.get('fragment-id')?.value;
  if (id === undefined || seen.has(id)) return [];
  seen.add(id);
  return fragments.get(id)?.children ?? [];
}

/** Variables the limit policies in `el` (itself, below it, or in a fragment it includes) set on admission. */
function outputVariables(el: PolicyElement, fragments: Fragments, seen: Set<string>, out: string[] = []): string[] {
  if (LIMIT_POLICIES.has(el.name)) {
    for (const [attr, v] of el.attrs) if (attr.endsWith('-variable-name') && v.value !== '') out.push(v.value);
  }
  for (const c of expand(el, fragments, seen)) outputVariables(c, fragments, seen, out);
  return out;
}

/** Whether a policy expression in `el` (below it, or in a fragment it includes) names one of `names` as a string literal. */
function reads(el: PolicyElement, names: readonly string[], fragments: Fragments, seen: Set<string>): boolean {
  const values = [...el.attrs.values(), ...(el.text === null ? [] : [el.text])];
  for (const v of values) {
    if (!/^\s*@[({]/.test(v.value)) continue;
    if (names.some((n) => v.value.includes(`"${n}"`))) return true;
  }
  return expand(el, fragments, seen).some((c) => reads(c, names, fragments, seen));
}

/**
 * Whether the policies after `elements[index]` read a variable its limits set. A variable read
 * under a computed name (`context.Variables[key]`) is not seen: it is set when inbound ends.
 */
export function admitsEarly(elements: readonly PolicyElement[], index: number, fragments: Fragments): boolean {
  const el = elements[index];
  if (el === undefined) return false;
  const names = outputVariables(el, fragments, new Set());
  if (names.length === 0) return false;
  return elements.slice(index + 1).some((later) => reads(later, names, fragments, new Set()));
}

/** `policy`, then the request's pending limits admitted (one store call for all claimed so far). */
export function admitAfter(policy: Policy): Policy {
  return {
    name: policy.name,
    async run(ctx) {
      const pending = policy.run(ctx);
      if (pending !== undefined) await pending;
      if (!ctx.ended && ctx.admission !== null) await ctx.admission.flush(ctx);
    },
  };
}
