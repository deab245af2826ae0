/**
 * Reads the YAML form of policy documents (config-as-code) into the same {@link PolicyElement}
 * tree the XML reader produces, so one compiler serves both.
 *
 * ```yaml
 * inbound:
 *   - base
 *   - set-header: { name: x-a, exists-action: override, value: "@(context.Subscription.Id)" }
 *   - choose:
 *       - when: { condition: "@(...)", children: [ { return-response: [ { set-status: { code: 400 } } ] } ] }
 * outbound: [ base ]
 * ```
 * An element is a one-key mapping `{ name: body }` or a bare name. The body is null (no
 * attributes), a scalar (the text), a list (the children), or a mapping whose scalar entries are
 * attributes, with `children:` (a list) and `text:` reserved.
 * @module
 */
import { isAlias, isDocument, isMap, isPair, isScalar, isSeq, type Document, type LineCounter } from 'yaml';
import { PolicyDocError, type PolicyElement, type PolicyValue, type SourcePos } from './element.ts';
import { MAX_DEPTH, trimXmlSpace } from './xml-source.ts';
import { SECTION_NAMES } from './xml-reader.ts';

export interface YamlReadContext {
  readonly file: string;
  /** The counter the document was parsed with; without it every position is `fallback`. */
  readonly lineCounter?: LineCounter | undefined;
  /** Position for plain JS values, which carry none. */
  readonly fallback: SourcePos;
  /** Lets `*alias` nodes resolve; without it an alias is an error. */
  readonly document?: Document | undefined;
}

/** Alias expansions allowed per document: enough for reuse, too few for a "billion laughs". */
const MAX_ALIASES = 100;
const ELEMENT_NAME = /^[\p{L}_:][\p{L}\p{N}\p{M}_:.-]*$/u;

/**
 * Builds the root element (`policies` or `fragment`) from the YAML value of a policy document.
 * `node` is a `yaml` Node (positions come from `ctx.lineCounter`) or a plain JS value.
 * @throws PolicyDocError at the offending node.
 * @example
 * ```ts
 * const lineCounter = new LineCounter();
 * const doc = parseDocument('inbound: [ base ]', { lineCounter });
 * const root = policyFromYaml(doc.contents, { file: 'api.yaml', lineCounter, fallback }, 'policies');
 * ```
 */
export function policyFromYaml(node: unknown, ctx: YamlReadContext, rootName: 'policies' | 'fragment'): PolicyElement {
  return new YamlReader(ctx).root(node, rootName);
}

type View =
  | { readonly kind: 'map'; readonly pos: SourcePos; readonly entries: readonly Entry[] }
  | { readonly kind: 'seq'; readonly pos: SourcePos; readonly items: readonly unknown[] }
  | {
      readonly kind: 'scalar';
      readonly pos: SourcePos;
      /** First character of the value itself (after an opening quote). */
      readonly valuePos: SourcePos;
      /** The value as XML would hold it; null for a YAML null. */
      readonly text: string | null;
    };

interface Entry {
  readonly key: string;
  readonly keyPos: SourcePos;
  readonly value: unknown;
}

class YamlReader {
  readonly #ctx: YamlReadContext;
  #aliases = 0;

  constructor(ctx: YamlReadContext) {
    this.#ctx = ctx;
  }

  root(node: unknown, rootName: 'policies' | 'fragment'): PolicyElement {
    const v = this.#view(node, this.#ctx.fallback);
    if (rootName === 'fragment') {
      if (v.kind !== 'seq') throw new PolicyDocError('a policy fragment must be a list of policy elements', v.pos);
      return element('fragment', v.pos, new Map(), this.#list(v, 2), null);
    }
    if (v.kind !== 'map') {
      throw new PolicyDocError('a policies document must be a mapping of sections (inbound, backend, outbound, on-error)', v.pos);
    }
    const sections = v.entries.map((e) => {
      if (!SECTION_NAMES.has(e.key)) throw sectionError(e.key, e.keyPos);
      const body = this.#view(e.value, e.keyPos);
      if (body.kind === 'scalar' && body.text === null) return element(e.key, e.keyPos, new Map(), [], null);
      if (body.kind !== 'seq') throw new PolicyDocError(`section '${e.key}' must be a list of policy elements`, body.pos);
      return element(e.key, e.keyPos, new Map(), this.#list(body, 3), null);
    });
    return element('policies', v.pos, new Map(), sections, null);
  }

  /** The elements of a list whose elements sit at `depth` (the root is depth 1). */
  #list(v: View & { kind: 'seq' }, depth: number): PolicyElement[] {
    return v.items.map((item) => this.#element(this.#view(item, v.pos), depth));
  }

  #element(v: View, depth: number): PolicyElement {
    if (v.kind === 'scalar') {
      if (v.text === null) throw new PolicyDocError('expected a policy element, found an empty list item', v.pos);
      return element(checkName(v.text, v.pos), v.pos, new Map(), [], null, depth);
    }
    if (v.kind === 'seq') throw new PolicyDocError('expected a policy element (a name or a one-key mapping), found a list', v.pos);
    const [entry, extra] = v.entries;
    if (entry === undefined) throw new PolicyDocError('expected a policy element, found an empty mapping', v.pos);
    if (extra !== undefined) {
      throw new PolicyDocError(
        `a policy element is a mapping with exactly one key, its name; found ${v.entries.length} keys (${v.entries
          .map((e) => e.key)
          .join(', ')}) — indent the attributes under the element name`,
        extra.keyPos,
      );
    }
    const name = checkName(entry.key, entry.keyPos);
    if (depth > MAX_DEPTH) throw new PolicyDocError(`<${name}> is nested deeper than ${MAX_DEPTH} elements`, entry.keyPos);
    const body = this.#view(entry.value, entry.keyPos);
    switch (body.kind) {
      case 'scalar': {
        const text = body.text === null ? null : textValue(body.text, body.valuePos);
        return element(name, entry.keyPos, new Map(), [], text);
      }
      case 'seq':
        return element(name, entry.keyPos, new Map(), this.#list(body, depth + 1), null);
      case 'map':
        return this.#mappingBody(name, entry.keyPos, body, depth);
    }
  }

  #mappingBody(name: string, pos: SourcePos, body: View & { kind: 'map' }, depth: number): PolicyElement {
    const attrs = new Map<string, PolicyValue>();
    let children: PolicyElement[] = [];
    let text: PolicyValue | null = null;
    for (const e of body.entries) {
      const v = this.#view(e.value, e.keyPos);
      if (e.key === 'children') {
        if (v.kind === 'seq') children = this.#list(v, depth + 1);
        else if (v.kind !== 'scalar' || v.text !== null) throw new PolicyDocError(`'children' of <${name}> must be a list of policy elements`, v.pos);
        continue;
      }
      if (v.kind === 'seq') {
        throw new PolicyDocError(
          `'${e.key}' of <${name}> is a list, but only 'children' may hold a list (write children: [ { ${e.key}: ... } ] for a child element)`,
          v.pos,
        );
      }
      if (v.kind === 'map') throw new PolicyDocError(`'${e.key}' of <${name}> must be a scalar`, v.pos);
      if (e.key === 'text') {
        if (v.text !== null) text = textValue(v.text, v.valuePos);
        continue;
      }
      if (v.text === null) throw new PolicyDocError(`attribute '${e.key}' of <${name}> has no value`, e.keyPos);
      attrs.set(e.key, { value: v.text, pos: v.valuePos });
    }
    return element(name, pos, attrs, children, text);
  }

  /** Where a yaml node starts, when it was parsed with the context's LineCounter. */
  #pos(node: { range?: readonly [number, number, number] | null | undefined }): SourcePos | undefined {
    const lc = this.#ctx.lineCounter;
    const start = node.range?.[0];
    if (lc === undefined || start === undefined) return undefined;
    const { line, col } = lc.linePos(start);
    return line === 0 ? undefined : { file: this.#ctx.file, line, col };
  }

  /** One level of a yaml Node or plain JS value; `at` is used where the value has no position. */
  #view(raw: unknown, at: SourcePos): View {
    if (isDocument(raw)) return this.#view(raw.contents, at);
    if (isAlias(raw)) {
      const pos = this.#pos(raw) ?? at;
      const doc = this.#ctx.document;
      if (doc === undefined) throw new PolicyDocError(`YAML alias *${raw.source} cannot be resolved here`, pos);
      if (++this.#aliases > MAX_ALIASES) throw new PolicyDocError(`more than ${MAX_ALIASES} YAML alias expansions`, pos);
      const target = raw.resolve(doc);
      if (target === undefined) throw new PolicyDocError(`YAML alias *${raw.source} has no anchor`, pos);
      return this.#view(target, pos);
    }
    if (isMap(raw)) {
      const pos = this.#pos(raw) ?? at;
      const entries = raw.items.map((pair): Entry => {
        const key: unknown = isPair(pair) ? pair.key : undefined;
        const keyPos = (isScalar(key) ? this.#pos(key) : undefined) ?? pos;
        if (!isScalar(key) || typeof key.value !== 'string') throw new PolicyDocError('mapping keys in a policy document must be strings', keyPos);
        return { key: key.value, keyPos, value: pair.value };
      });
      return { kind: 'map', pos, entries };
    }
    if (isSeq(raw)) return { kind: 'seq', pos: this.#pos(raw) ?? at, items: raw.items };
    if (isScalar(raw)) {
      const real = this.#pos(raw);
      const pos = real ?? at;
      const quoted = raw.type === 'QUOTE_DOUBLE' || raw.type === 'QUOTE_SINGLE';
      const valuePos = real !== undefined && quoted ? { ...real, col: real.col + 1 } : pos;
      // A plain number keeps its spelling (`api-version: 2024.10` must not become "2024.1").
      const spelled = raw.type === 'PLAIN' && (typeof raw.value === 'number' || typeof raw.value === 'bigint') ? raw.source : undefined;
      return { kind: 'scalar', pos, valuePos, text: spelled ?? scalarText(raw.value, pos) };
    }
    if (raw === null || raw === undefined) return { kind: 'scalar', pos: at, valuePos: at, text: null };
    if (Array.isArray(raw)) return { kind: 'seq', pos: at, items: raw };
    if (typeof raw === 'object') {
      const proto: unknown = Object.getPrototypeOf(raw);
      if (proto !== Object.prototype && proto !== null) throw new PolicyDocError('unsupported value in a policy document', at);
      return { kind: 'map', pos: at, entries: Object.entries(raw as Record<string, unknown>).map(([key, value]) => ({ key, keyPos: at, value })) };
    }
    return { kind: 'scalar', pos: at, valuePos: at, text: scalarText(raw, at) };
  }
}

/** A scalar as XML would spell it: `true` → "true", 3600 → "3600". */
function scalarText(value: unknown, pos: SourcePos): string | null {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(value);
    case 'undefined':
      return null;
    case 'object':
      if (value === null) return null;
      throw new PolicyDocError('unsupported scalar in a policy document', pos);
    case 'function':
    case 'symbol':
      throw new PolicyDocError('unsupported scalar in a policy document', pos);
  }
}

function textValue(text: string, pos: SourcePos): PolicyValue | null {
  const value = trimXmlSpace(text);
  return value === '' ? null : { value, pos };
}

function checkName(name: string, pos: SourcePos): string {
  if (!ELEMENT_NAME.test(name)) throw new PolicyDocError(`'${name}' is not a valid element name`, pos);
  return name;
}

function sectionError(name: string, pos: SourcePos): PolicyDocError {
  return new PolicyDocError(`unknown section '${name}' (expected inbound, backend, outbound or on-error)`, pos);
}

function element(
  name: string,
  pos: SourcePos,
  attrs: ReadonlyMap<string, PolicyValue>,
  children: readonly PolicyElement[],
  text: PolicyValue | null,
  depth = 0,
): PolicyElement {
  if (depth > MAX_DEPTH) throw new PolicyDocError(`<${name}> is nested deeper than ${MAX_DEPTH} elements`, pos);
  return { name, attrs, children, text, pos };
}
