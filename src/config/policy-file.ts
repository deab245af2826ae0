/**
 * A policy document kept in its own YAML file (`policies: policies/chat.yaml`).
 * @module
 */
import { LineCounter, parseDocument } from 'yaml';
import { PolicyDocError, type PolicyElement } from '../policy-docs/element.ts';
import { readPolicyDocument } from '../policy-docs/read.ts';

export function parseYamlPolicyFile(text: string, file: string, root: 'policies' | 'fragment', namedValues: ReadonlyMap<string, string>): PolicyElement {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const first = doc.errors[0];
  if (first !== undefined) {
    const p = lineCounter.linePos(first.pos[0]);
    throw new PolicyDocError(first.message.split('\n')[0] ?? first.message, { file, line: p.line, col: p.col });
  }
  return readPolicyDocument({
    kind: 'yaml',
    node: doc.contents,
    file,
    lineCounter,
    document: doc,
    fallback: { file, line: 1, col: 1 },
    rootName: root,
    namedValues,
  });
}
