/**
 * `{{name}}` substitution in policy documents, as APIM does it: a named value is a value, not text
 * pasted into the XML. The document is read first, with its references as written; then every
 * attribute value and element text has its references replaced. So a value holding `"`, `<` or `&`
 * (a JSON array, say) is that value in an attribute or element text, never a change to the
 * document's elements or attributes; inside a policy expression it becomes part of the expression
 * source before it is compiled (a value may itself be a whole expression, as APIM allows).
 *
 * Each substituted value remembers which named values it holds, so that an error about it (an
 * expression that does not compile, an integer that is not one) names them. XML and YAML documents
 * go through the same function.
 * @module
 */
import { PolicyDocError, type PolicyElement, type PolicyValue, type SourcePos } from './element.ts';
import { MAX_DOC_BYTES } from './xml-source.ts';

/** Names follow APIM's rule (letters, digits, `.`, `-`, `_`): `{{ x }}` and JSON like `{{"a":1}}` are left alone. */
const REF = /\{\{([A-Za-z0-9._-]+)\}\}/g;

/** Where `offset` of a value that starts at `pos` is, counting its line breaks (entities count as written once decoded). */
function posWithin(v: PolicyValue, offset: number): SourcePos {
  const before = v.value.slice(0, offset);
  const lastBreak = before.lastIndexOf('\n');
  if (lastBreak < 0) return { file: v.pos.file, line: v.pos.line, col: v.pos.col + offset };
  const lines = before.split('\n').length - 1;
  return { file: v.pos.file, line: v.pos.line + lines, col: offset - lastBreak };
}

/**
 * The tree with every `{{name}}` in attribute values and texts replaced by its value.
 * @throws PolicyDocError at the `{{` of an unknown name, or when the values substituted make the
 *   document larger than the document limit.
 * @example
 * ```ts
 * const root = substituteInTree(parsePolicyXml('<set-variable name="ids" value="{{ids}}" />', 'p.xml'), new Map([['ids', '["a","b"]']]));
 * root.attrs.get('value')?.value; // '["a","b"]'
 * ```
 */
export function substituteInTree(root: PolicyElement, values: ReadonlyMap<string, string>): PolicyElement {
  let grown = 0;
  const sub = (v: PolicyValue, where: string): PolicyValue => {
    if (!v.value.includes('{{')) return v;
    const names: string[] = [];
    const value = v.value.replace(REF, (match, name: string, offset: number) => {
      const found = values.get(name);
      if (found === undefined) throw new PolicyDocError(`unknown named value {{${name}}} in ${where}`, posWithin(v, offset));
      grown += found.length - match.length;
      if (grown > MAX_DOC_BYTES) throw new PolicyDocError(`substituting {{${name}}} makes the policy document larger than ${MAX_DOC_BYTES} bytes`, posWithin(v, offset));
      if (!names.includes(name)) names.push(name);
      return found;
    });
    return names.length === 0 ? v : { value, pos: v.pos, namedValues: names };
  };
  const walk = (el: PolicyElement): PolicyElement => {
    const attrs = new Map<string, PolicyValue>();
    for (const [k, v] of el.attrs) attrs.set(k, sub(v, `attribute '${k}' of <${el.name}>`));
    return { name: el.name, attrs, children: el.children.map(walk), text: el.text === null ? null : sub(el.text, `the text of <${el.name}>`), pos: el.pos };
  };
  return walk(root);
}

/** ` (with {{a}}, {{b}} substituted)`, for messages about a value that holds named values; '' otherwise. */
export function namedValuesNote(v: PolicyValue): string {
  const names = v.namedValues ?? [];
  return names.length === 0 ? '' : ` (with ${names.map((n) => `{{${n}}}`).join(', ')} substituted)`;
}
