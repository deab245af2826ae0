/**
 * Reads every policy document a configuration names (global, product, API, operation scopes, and
 * fragments) into element trees: files relative to the config file, inline XML strings, or the
 * YAML form inside the config. Problems come back located in the file where they are.
 * @module
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isScalar, Scalar, type Document, type LineCounter } from 'yaml';
import { PolicyDocError, type PolicyElement, type SourcePos } from '../policy-docs/element.ts';
import { readPolicyDocument } from '../policy-docs/read.ts';
import { parseYamlPolicyFile } from './policy-file.ts';
import type { Config } from './schema.ts';

export interface PolicyDocs {
  readonly global: PolicyElement | undefined;
  readonly products: ReadonlyMap<string, PolicyElement>;
  readonly apis: ReadonlyMap<string, PolicyElement>;
  /** Keyed `<apiId>/<operationId>`. */
  readonly operations: ReadonlyMap<string, PolicyElement>;
  readonly fragments: ReadonlyMap<string, PolicyElement>;
}

export interface PolicyLoadContext {
  /** The config file (undefined for a config built in code). */
  readonly file: string | undefined;
  readonly doc: Document | undefined;
  readonly lineCounter: LineCounter | undefined;
  readonly namedValues: ReadonlyMap<string, string>;
  /** The config file's text, to find the indentation of inline block scalars. */
  readonly text: string | undefined;
}

export interface PolicyIssue {
  readonly pos: SourcePos;
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

export const EMPTY_POLICY_DOCS: PolicyDocs = { global: undefined, products: new Map(), apis: new Map(), operations: new Map(), fragments: new Map() };

export function loadPolicyDocs(config: Config, lc: PolicyLoadContext, issues: PolicyIssue[]): PolicyDocs {
  const read = (source: unknown, path: PropertyKey[], root: 'policies' | 'fragment'): PolicyElement | undefined => {
    if (source === undefined) return undefined;
    try {
      return readSource(source, path, root, lc);
    } catch (err) {
      if (err instanceof PolicyDocError) {
        issues.push({ pos: err.pos, path, message: err.message });
        return undefined;
      }
      throw err;
    }
  };
  const products = new Map<string, PolicyElement>();
  const apis = new Map<string, PolicyElement>();
  const operations = new Map<string, PolicyElement>();
  const fragments = new Map<string, PolicyElement>();
  for (const [id, src] of Object.entries(config.fragments)) {
    const el = read(src, ['fragments', id], 'fragment');
    if (el !== undefined) fragments.set(id, el);
  }
  const global = read(config.policies, ['policies'], 'policies');
  for (const [id, p] of Object.entries(config.products)) {
    const el = read(p.policies, ['products', id, 'policies'], 'policies');
    if (el !== undefined) products.set(id, el);
  }
  for (const [id, a] of Object.entries(config.apis)) {
    const el = read(a.policies, ['apis', id, 'policies'], 'policies');
    if (el !== undefined) apis.set(id, el);
    for (const [op, o] of Object.entries(a.operations)) {
      const oel = read(o.policies, ['apis', id, 'operations', op, 'policies'], 'policies');
      if (oel !== undefined) operations.set(`${id}/${op}`, oel);
    }
  }
  return { global, products, apis, operations, fragments };
}

function readSource(source: unknown, path: PropertyKey[], root: 'policies' | 'fragment', lc: PolicyLoadContext): PolicyElement {
  const configFile = lc.file ?? '<config>';
  const node = lc.doc?.getIn(path, true);
  const here = positionOf(node, lc) ?? { file: configFile, line: 1, col: 1 };
  if (typeof source === 'string') {
    const trimmed = source.trimStart();
    if (trimmed.startsWith('<')) {
      // Inline XML: positions inside the string are mapped back onto the config file.
      const el = readPolicyDocument({ kind: 'xml', text: source, file: configFile, namedValues: lc.namedValues });
      return shift(el, inlineOffset(node, here, lc));
    }
    const file = resolve(lc.file === undefined ? process.cwd() : dirname(resolve(lc.file)), source);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new PolicyDocError(`cannot read policy file ${source} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, here);
    }
    if (/\.ya?ml$/i.test(file)) return parseYamlPolicyFile(text, source, root, lc.namedValues);
    return readPolicyDocument({ kind: 'xml', text, file: source, namedValues: lc.namedValues });
  }
  return readPolicyDocument({
    kind: 'yaml',
    node: node ?? source,
    file: configFile,
    lineCounter: lc.lineCounter,
    document: lc.doc,
    fallback: here,
    rootName: root,
    namedValues: lc.namedValues,
  });
}

function positionOf(node: unknown, lc: PolicyLoadContext): SourcePos | undefined {
  const range = (node as { range?: [number, number, number] } | undefined)?.range;
  if (range === undefined || lc.lineCounter === undefined) return undefined;
  const p = lc.lineCounter.linePos(range[0]);
  return { file: lc.file ?? '<config>', line: p.line, col: p.col };
}

interface Offset {
  readonly line: number;
  readonly firstCol: number;
  readonly indent: number;
}

/** Where line 1 of an inline string starts in the config file, and the indentation of later lines. */
function inlineOffset(node: unknown, here: SourcePos, lc: PolicyLoadContext): Offset {
  if (isScalar(node) && (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED)) {
    // `key: |` — content starts on the next line, indented as that line is.
    const next = lc.text?.split(/\r?\n/)[here.line] ?? '';
    const indent = (/^ */.exec(next)?.[0].length ?? 0) + 1;
    return { line: here.line + 1, firstCol: indent, indent };
  }
  const quoted = isScalar(node) && (node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE);
  return { line: here.line, firstCol: here.col + (quoted ? 1 : 0), indent: here.col };
}

function shift(el: PolicyElement, o: Offset): PolicyElement {
  const move = (p: SourcePos): SourcePos => ({ file: p.file, line: o.line + p.line - 1, col: p.line === 1 ? o.firstCol + p.col - 1 : o.indent + p.col - 1 });
  const attrs = new Map([...el.attrs].map(([k, v]) => [k, { ...v, pos: move(v.pos) }]));
  return {
    name: el.name,
    attrs,
    children: el.children.map((c) => shift(c, o)),
    text: el.text === null ? null : { ...el.text, pos: move(el.text.pos) },
    pos: move(el.pos),
  };
}
