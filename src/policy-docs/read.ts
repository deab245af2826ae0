/**
 * One entry point for reading a policy document, XML or YAML, into a {@link PolicyElement} tree,
 * with APIM's `{{named value}}` substitution.
 * @module
 */
import type { Document, LineCounter } from 'yaml';
import type { PolicyElement, SourcePos } from './element.ts';
import { substituteInTree } from './named-values.ts';
import { parsePolicyXml } from './xml-reader.ts';
import { policyFromYaml } from './yaml-reader.ts';

export type PolicySource =
  | {
      readonly kind: 'xml';
      readonly text: string;
      readonly file: string;
      /** When given, `{{name}}` references in attribute values and texts are substituted (src/policy-docs/named-values.ts). */
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
      const root = parsePolicyXml(source.text, source.file);
      return source.namedValues === undefined ? root : substituteInTree(root, source.namedValues);
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
