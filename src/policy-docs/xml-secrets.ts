/**
 * Reading an XML policy document that secret named values are substituted into, without any error
 * message quoting a secret, whole or in part.
 *
 * APIM substitutes `{{name}}` into the document text before reading it, so a secret holding `"`,
 * `<` or `&` changes what the reader sees, and the reader's error messages quote the text around
 * the failure: a fragment of the secret that no redaction of whole values can recognise. So the
 * document is read twice: once with every secret replaced by as many `x` as it has characters (same
 * offsets, so the same positions), once with the real values. A problem of the masked reading is
 * reported as it is (it cannot contain a secret); a problem only the real reading has is caused by
 * a secret and is reported at its `{{` without quoting anything; and a secret may not change the
 * document's structure (elements, attributes): it must stay a value.
 * @module
 */
import { PolicyDocError, type PolicyElement } from './element.ts';
import { substituteWithMap } from './xml-named-values.ts';
import { parsePolicyXml } from './xml-reader.ts';
import { locatorFor } from './xml-source.ts';
import { secretRegistry } from '../secrets/redactor.ts';

export function readXmlWithNamedValues(text: string, file: string, values: ReadonlyMap<string, string>): PolicyElement {
  const sub = substituteWithMap(text, values, file);
  const original = locatorFor(text, file);
  const locate = (offset: number): ReturnType<typeof original> => original(sub.toOriginal(offset));
  let masked: Map<string, string> | null = null;
  for (const [name, value] of values) {
    if (!secretRegistry.has(value)) continue;
    masked ??= new Map(values);
    masked.set(name, 'x'.repeat(value.length));
  }
  const maskedText = masked === null ? sub.text : substituteWithMap(text, masked, file).text;
  if (maskedText === sub.text) return parsePolicyXml(sub.text, file, { locate });

  const shape = parsePolicyXml(maskedText, file, { locate });
  let root: PolicyElement;
  try {
    root = parsePolicyXml(sub.text, file, { locate });
  } catch (err) {
    if (!(err instanceof PolicyDocError)) throw err;
    throw new PolicyDocError(
      'the value of a secret named value substituted here makes the document invalid XML (the value is not shown); ' +
        'escape its XML special characters (&amp; &lt; &quot;) in the secret, or use it where it is read as text',
      err.pos,
    );
  }
  const differs = firstDifference(shape, root);
  if (differs !== null) {
    throw new PolicyDocError('a secret named value substituted here changes the document\'s elements or attributes; a secret must be a plain value', differs.pos);
  }
  return root;
}

/** The first element whose name, attribute names, text presence or children differ, or null. */
function firstDifference(a: PolicyElement, b: PolicyElement): PolicyElement | null {
  const sameAttrs = a.attrs.size === b.attrs.size && [...a.attrs.keys()].every((k) => b.attrs.has(k));
  if (a.name !== b.name || !sameAttrs || (a.text === null) !== (b.text === null) || a.children.length !== b.children.length) return a;
  for (let i = 0; i < a.children.length; i++) {
    const d = firstDifference(a.children[i] as PolicyElement, b.children[i] as PolicyElement);
    if (d !== null) return d;
  }
  return null;
}
