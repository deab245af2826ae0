/**
 * One entry point for reading a policy document, XML or YAML, into a {@link PolicyElement} tree,
 * with APIM's `{{named value}}` substitution.
 * @module
 */
import type { Document, LineCounter } from 'yaml';
import { PolicyDocError, type PolicyElement, type PolicyValue, type SourcePos } from './element.ts';
import { substituteWithMap } from './xml-named-values.ts';
import { parsePolicyXml } from './xml-reader.ts';
import { readXmlWithNamedValues } from './xml-secrets.ts';
import { policyFromYaml } from './yaml-reader.ts';

export type PolicySource =
  | {
      readonly kind: 'xml';
      readonly text: string;
      readonly file: string;
      /** When given, `{{name}}` references are substituted before parsing (as APIM does). */
      readonly namedValues?: ReadonlyMap<string, string> | undefined;
    }
  | {
      readonly kind: 'yaml';
      /** A `yaml` Node (from a Document parsed with `lineCounter`) or a plain JS value. */
      readonly node: unknown;
      readonly file: string;
      readonly lineCounter?: LineCounter | undefined;
      readonly fallback: SourcePos;
      /** Default `policies`. */
      readonly rootName?: 'policies' | 'fragment' | undefined;
      /** Lets YAML aliases resolve. */
      readonly document?: Document | undefined;
      /** When given, `{{name}}` references in attribute values and texts are substituted. */
      readonly namedValues?: ReadonlyMap<string, string> | undefined;
    };

/**
 * Reads a policy document into its element tree; every position points into the file as written.
 * @throws PolicyDocError at the offending line:col.
 * @example
 * ```ts
 * const root = readPolicyDocument({
 *   kind: 'xml',
 *   file: 'policies/chat.xml',
 *   text: '<policies><inbound><set-header name="api-key"><value>{{aoai-key}}</value></set-header></inbound></policies>',
 *   namedValues: new Map([['aoai-key', 'secret']]),
 * });
 * ```
 */
export function readPolicyDocument(source: PolicySource): PolicyElement {
  switch (source.kind) {
    case 'xml': {
      if (source.namedValues === undefined) return parsePolicyXml(source.text, source.file);
      return readXmlWithNamedValues(source.text, source.file, source.namedValues);
    }
    case 'yaml': {
      const root = policyFromYaml(
        source.node,
        { file: source.file, lineCounter: source.lineCounter, fallback: source.fallback, document: source.document },
        source.rootName ?? 'policies',
      );
      return source.namedValues === undefined ? root : substituteInTree(root, source.namedValues);
    }
  }
}

/**
 * Replaces `{{name}}` in XML text (outside comments) with its value, as APIM does before reading a
 * policy. {@link readPolicyDocument} with `namedValues` is preferred: it also keeps the positions
 * of later errors pointing into the original text, which parsing this function's result cannot.
 * @throws PolicyDocError at the `{{` of an unknown name (a position in `text`).
 * @example
 * ```ts
 * substituteNamedValues('<value>{{region}}</value>', new Map([['region', 'eastus']]), 'api.xml');
 * // '<value>eastus</value>'
 * ```
 */
export function substituteNamedValues(text: string, values: ReadonlyMap<string, string>, file: string): string {
  return substituteWithMap(text, values, file).text;
}

const REF = /\{\{([A-Za-z0-9._-]+)\}\}/g;

/** YAML has no document text to substitute in, so values are substituted where they ended up. */
function substituteInTree(el: PolicyElement, values: ReadonlyMap<string, string>): PolicyElement {
  const sub = (v: PolicyValue, where: string): PolicyValue => {
    if (!v.value.includes('{{')) return v;
    const value = v.value.replace(REF, (_m, name: string) => {
      const found = values.get(name);
      if (found === undefined) throw new PolicyDocError(`unknown named value {{${name}}} in ${where}`, v.pos);
      return found;
    });
    return { value, pos: v.pos };
  };
  const attrs = new Map<string, PolicyValue>();
  for (const [k, v] of el.attrs) attrs.set(k, sub(v, `attribute '${k}' of <${el.name}>`));
  return {
    name: el.name,
    attrs,
    children: el.children.map((c) => substituteInTree(c, values)),
    text: el.text === null ? null : sub(el.text, `the text of <${el.name}>`),
    pos: el.pos,
  };
}
