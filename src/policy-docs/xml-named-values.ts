/**
 * `{{name}}` substitution in policy XML. APIM replaces named values in the document text before
 * the document is read, so a value may hold anything an author could have typed there, a policy
 * expression included. Substituting shifts offsets, so the substitution keeps a map back to the
 * original text: every later error still points into the file the user wrote.
 * @module
 */
import { PolicyDocError } from './element.ts';
import { MAX_DOC_BYTES, locatorFor } from './xml-source.ts';

export interface Substitution {
  readonly text: string;
  /**
   * Offset in `text` → offset in the original. An offset inside a substituted value maps to the
   * `{{` of the reference it replaced.
   */
  readonly toOriginal: (offset: number) => number;
}

/**
 * Comments are skipped so that a commented-out policy naming a retired value does not stop the
 * document loading. Names follow APIM's rule (letters, digits, `.`, `-`, `_`), so `{{ x }}` with
 * spaces and JSON like `{{"a":1}}` are left alone.
 */
const REF = /<!--[\s\S]*?(?:-->|$)|\{\{([A-Za-z0-9._-]+)\}\}/g;

/**
 * Replaces every `{{name}}` outside comments with its value.
 * @throws PolicyDocError at the `{{` of an unknown name, or when the result outgrows the document limit.
 */
export function substituteWithMap(text: string, values: ReadonlyMap<string, string>, file: string): Substitution {
  if (!text.includes('{{')) return { text, toOriginal: (o) => o };
  // Segment k: new [newStart, newEnd) replaced original [origStart, origEnd).
  const newStart: number[] = [];
  const newEnd: number[] = [];
  const origStart: number[] = [];
  const origEnd: number[] = [];
  const parts: string[] = [];
  let length = 0;
  let from = 0;
  for (const m of text.matchAll(REF)) {
    const name = m[1];
    if (name === undefined) continue; // a comment
    const value = values.get(name);
    if (value === undefined) throw new PolicyDocError(`unknown named value {{${name}}}`, locatorFor(text, file)(m.index));
    const before = text.slice(from, m.index);
    length += before.length;
    newStart.push(length);
    origStart.push(m.index);
    length += value.length;
    newEnd.push(length);
    origEnd.push(m.index + m[0].length);
    if (length > MAX_DOC_BYTES) {
      throw new PolicyDocError(
        `substituting {{${name}}} makes the policy document larger than ${MAX_DOC_BYTES} bytes`,
        locatorFor(text, file)(m.index),
      );
    }
    parts.push(before, value);
    from = m.index + m[0].length;
  }
  if (newStart.length === 0) return { text, toOriginal: (o) => o };
  parts.push(text.slice(from));
  return {
    text: parts.join(''),
    toOriginal(o: number): number {
      let lo = 0;
      let hi = newStart.length - 1;
      if (o < (newStart[0] ?? 0)) return o;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((newStart[mid] ?? 0) <= o) lo = mid;
        else hi = mid - 1;
      }
      const end = newEnd[lo] ?? 0;
      return o < end ? (origStart[lo] ?? 0) : (origEnd[lo] ?? 0) + (o - end);
    },
  };
}
