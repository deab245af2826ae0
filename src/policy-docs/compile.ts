/**
 * Compiles policy documents (element trees) into the pipeline's policies, once, at load.
 * `<base/>` is kept as a marker and resolved when the scopes are merged
 * (global → product → API → operation); `<include-fragment>` inlines a compiled fragment.
 * @module
 */
import { admitAfter, admitsEarly } from '../limits/early-admission.ts';
import type { Pipeline, Policy, PolicySection } from '../core/pipeline.ts';
import { PolicyDocError, type PolicyElement, type SourcePos } from './element.ts';
import { collectProblems, PolicyDocErrors, report } from './problems.ts';
import { ElementReader } from './reader.ts';
import { asElement, didYouMean } from '../util/did-you-mean.ts';
import type { PolicyServices } from './services.ts';
import { readsResponseBody } from './reads-response-body.ts';

/** Where a policy sits: its section, and whether set-header/set-body act on the request or the response. */
export interface CompileScope {
  readonly section: PolicySection;
  readonly target: 'request' | 'response';
  /** Fragment ids being inlined (include-fragment cycles are load errors). */
  readonly fragmentStack: readonly string[];
  /** Inside a `<retry>` (so forward-request failures become retryable responses). */
  readonly inRetry: boolean;
}

export interface PolicyEnv {
  readonly backendIds: ReadonlySet<string>;
  readonly loggerIds: ReadonlySet<string>;
  readonly fragments: ReadonlyMap<string, PolicyElement>;
  readonly services: PolicyServices;
  /** A load-time notice (e.g. a policy that is parsed but not yet enforced). */
  notice(message: string, pos: SourcePos): void;
}

export interface PolicyDefinition {
  /** Element names (several for renamed policies, e.g. llm-token-limit and azure-openai-token-limit). */
  readonly names: readonly string[];
  readonly sections: readonly PolicySection[];
  compile(r: ElementReader, scope: CompileScope, env: PolicyEnv, children: ChildCompiler): Policy;
}

export type ChildCompiler = (elements: readonly PolicyElement[], scope: CompileScope) => Policy[];

/** Placeholder for `<base/>`: replaced by the enclosing scope's section when scopes are merged. */
export const BASE: Policy = Object.freeze({ name: 'base', run: () => undefined });

export interface CompiledDocument {
  /** Sections the document declares; an absent section inherits the enclosing scope's whole. */
  readonly sections: Partial<Record<PolicySection, readonly Policy[]>>;
  /** Its own outbound section has an expression that reads `context.Response.Body` (./reads-response-body.ts). */
  readonly outboundReadsBody?: boolean;
}

const SECTION_ELEMENT: Record<string, PolicySection> = { inbound: 'inbound', backend: 'backend', outbound: 'outbound', 'on-error': 'on-error' };

export class PolicyCompiler {
  readonly #defs = new Map<string, PolicyDefinition>();
  readonly #env: PolicyEnv;

  constructor(definitions: readonly PolicyDefinition[], env: PolicyEnv) {
    for (const d of definitions) for (const n of d.names) this.#defs.set(n, d);
    this.#env = env;
  }

  /**
   * A `<policies>` document. Every problem in it is found in one pass (a bad element or attribute
   * is reported and compiling carries on with the next).
   * @throws PolicyDocErrors with every problem, in document order.
   */
  document(root: PolicyElement): CompiledDocument {
    const { value, problems } = collectProblems(() => this.#document(root));
    if (problems.length > 0 || value === undefined) throw new PolicyDocErrors(problems);
    return value;
  }

  #document(root: PolicyElement): CompiledDocument {
    if (root.name !== 'policies') throw new PolicyDocError(`a policy document's root must be <policies>, found <${root.name}>`, root.pos);
    new ElementReader(root).done();
    const sections: Partial<Record<PolicySection, readonly Policy[]>> = {};
    let outboundReadsBody = false;
    for (const el of root.children) {
      const section = SECTION_ELEMENT[el.name];
      if (section === undefined) {
        report(new PolicyDocError(`<policies> takes <inbound>, <backend>, <outbound> and <on-error>; found <${el.name}>${didYouMean(el.name, Object.keys(SECTION_ELEMENT), asElement)}`, el.pos));
        continue;
      }
      if (sections[section] !== undefined) {
        report(new PolicyDocError(`<${el.name}> appears twice`, el.pos));
        continue;
      }
      new ElementReader(el).done();
      const target = section === 'outbound' || section === 'on-error' ? 'response' : 'request';
      sections[section] = this.list(el.children, { section, target, fragmentStack: [], inRetry: false }, true);
      if (section === 'outbound') outboundReadsBody = readsResponseBody(el.children, this.#env.fragments);
    }
    return { sections, ...(outboundReadsBody && { outboundReadsBody }) };
  }

  /** Compiles a fragment's policies alone (for its own problems), as if included in `section`. */
  fragment(id: string, el: PolicyElement, section: PolicySection): PolicyDocError[] {
    const target = section === 'outbound' || section === 'on-error' ? 'response' : 'request';
    return collectProblems(() => this.list(el.children, { section, target, fragmentStack: [id], inRetry: false })).problems;
  }

  /** Compiles a list of policy elements; `<base/>` is allowed only at a section's top level. */
  list(elements: readonly PolicyElement[], scope: CompileScope, topLevel = false): Policy[] {
    const out: Policy[] = [];
    let sawBase = false;
    for (const [i, el] of elements.entries()) {
      if (el.name === 'base') {
        if (!topLevel) throw new PolicyDocError('<base/> may only appear directly inside a section', el.pos);
        if (sawBase) throw new PolicyDocError('<base/> appears twice in this section', el.pos);
        new ElementReader(el).done();
        sawBase = true;
        out.push(BASE);
        continue;
      }
      // A bad element is reported and the rest of the list still compiles, so that one run finds
      // every problem (report() rethrows when nobody collects).
      try {
        // Limits are admitted at the end of inbound unless a later policy reads their variables (decided here, once).
        const early = scope.section === 'inbound' && admitsEarly(elements, i, this.#env.fragments);
        if (el.name === 'include-fragment') {
          const included = this.#fragment(el, scope);
          out.push(...(early ? [...included, admitAfter({ name: 'include-fragment', run: () => undefined })] : included));
          continue;
        }
        const policy = this.one(el, scope);
        out.push(early ? admitAfter(policy) : policy);
      } catch (err) {
        if (!(err instanceof PolicyDocError)) throw err;
        report(err);
      }
    }
    return out;
  }

  one(el: PolicyElement, scope: CompileScope): Policy {
    const def = this.#defs.get(el.name);
    if (def === undefined) throw new PolicyDocError(`unknown policy <${el.name}>${didYouMean(el.name, this.#defs.keys(), asElement)}`, el.pos);
    if (!def.sections.includes(scope.section)) {
      throw new PolicyDocError(`<${el.name}> is not allowed in the ${scope.section} section (allowed: ${def.sections.join(', ')})`, el.pos);
    }
    const reader = new ElementReader(el);
    let policy: Policy;
    try {
      policy = def.compile(reader, scope, this.#env, (els, s) => this.list(els, s));
    } catch (err) {
      // Whatever a policy's factory throws is a problem of this element, reported at it (so that
      // `tollgate validate` lists it with the others instead of failing on an uncaught exception).
      if (err instanceof PolicyDocError || !(err instanceof Error)) throw err;
      throw new PolicyDocError(`<${el.name}>: ${err.message}`, el.pos);
    }
    reader.done();
    return policy;
  }

  #fragment(el: PolicyElement, scope: CompileScope): Policy[] {
    const r = new ElementReader(el);
    const id = r.literal('fragment-id', true) as string;
    r.done();
    const fragment = this.#env.fragments.get(id);
    if (fragment === undefined) throw new PolicyDocError(`policy fragment "${id}" is not defined under fragments`, el.pos);
    if (scope.fragmentStack.includes(id)) throw new PolicyDocError(`policy fragment "${id}" includes itself`, el.pos);
    return this.list(fragment.children, { ...scope, fragmentStack: [...scope.fragmentStack, id] });
  }
}

const SECTIONS: readonly PolicySection[] = ['inbound', 'backend', 'outbound', 'on-error'];

/**
 * Merges compiled documents from the outermost scope inwards. A section a document omits
 * inherits the enclosing one whole; a section it declares replaces it, with `<base/>` marking
 * where the enclosing policies run. `root` is the implicit outermost document (APIM's default:
 * the backend section forwards the request).
 */
export function mergeScopes(root: CompiledDocument, docs: ReadonlyArray<CompiledDocument | undefined>): Pipeline {
  const current: Record<PolicySection, readonly Policy[]> = { inbound: [], backend: [], outbound: [], 'on-error': [] };
  // Whether the merged outbound section reads the answer's body: a document's own outbound does,
  // or it keeps (through <base/>) an enclosing one that does.
  let outboundReadsBody = false;
  for (const doc of [root, ...docs]) {
    if (doc === undefined) continue;
    for (const s of SECTIONS) {
      const own = doc.sections[s];
      if (own === undefined) continue;
      if (s === 'outbound') outboundReadsBody = doc.outboundReadsBody === true || (outboundReadsBody && own.includes(BASE));
      current[s] = own.flatMap((p) => (p === BASE ? current[s] : [p]));
    }
  }
  return { inbound: current.inbound, backend: current.backend, outbound: current.outbound, onError: current['on-error'], ...(outboundReadsBody && { holdResponseBody: true }) };
}
