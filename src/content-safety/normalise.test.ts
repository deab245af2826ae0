/**
 * The folding the heuristics match on. `foldDigits` finds the words to fold with a regular
 * expression; here it is checked against the plain character loop it replaced (kept below as the
 * reference) on generated text, so the speed-up changed no result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldDigits, foldLayers, foldText } from './normalise.ts';
import { generatedTexts } from './test-support.ts';

const SUB: Readonly<Record<string, string>> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's', '!': 'i', '|': 'l' };
const isWordChar = (c: string): boolean => /[a-z0-9@$!|]/.test(c);

/** The rule, one character at a time: a word of letters and substitutes, or a one- or two-character all-substitute word, is folded. */
function reference(t: string): string {
  let out = '';
  for (let i = 0; i < t.length; ) {
    if (!isWordChar(t.charAt(i))) {
      out += t.charAt(i++);
      continue;
    }
    let j = i;
    while (j < t.length && isWordChar(t.charAt(j))) j++;
    const word = t.slice(i, j);
    const letters = /[a-z]/.test(word);
    const subs = [...word].some((c) => c in SUB);
    const allSubs = [...word].every((c) => c in SUB);
    out += subs && (letters || (word.length <= 2 && allSubs)) ? [...word].map((c) => SUB[c] ?? c).join('') : word;
    i = j;
  }
  return out;
}

test('foldDigits folds exactly the words the character-by-character rule folds, on 20,000 generated texts', () => {
  for (const s of generatedTexts(15, 'abcdeilostxyz0123456789@$!|  .,-:[]"\'\n', 20_000, 40)) {
    assert.equal(foldDigits(s), reference(s), JSON.stringify(s));
  }
});

test('digits and symbols inside words become letters; numbers stay numbers; text without a substitute is returned as is', () => {
  assert.equal(foldText('1GN0RE prev10us !nstructions'), 'ignore previous instructions');
  assert.equal(foldText('call 555 0199 at 10:30, order 4'), 'call 555 0199 at io:eo, order a');
  const plain = 'nothing to fold here';
  assert.equal(foldDigits(plain), plain);
});

test('foldLayers names the words whose digits were folded (outside them letters and folded text are the same)', () => {
  const { letters, folded, changed } = foldLayers('Call 555 0199 at 10:30, 1gn0re the 14th');
  assert.equal(folded, 'call 555 0199 at io:eo, ignore the iath');
  assert.deepEqual(changed, [17, 19, 20, 22, 24, 30, 35, 39]);
  for (let i = 0, k = 0; i < letters.length; i++) {
    while (k < changed.length && (changed[k + 1] as number) <= i) k += 2;
    if (k >= changed.length || i < (changed[k] as number)) assert.equal(letters[i], folded[i]);
  }
  assert.deepEqual(foldLayers('nothing to fold').changed, []);
});

test('foldLayers says whether the folded text differs from the visible one exactly when the two strings differ', () => {
  for (const s of generatedTexts(16, 'abeiostAB0134579@$!|  .-[<іа\u200bｉé', 20_000, 24)) {
    const { visible, folded, differs } = foldLayers(s);
    assert.equal(differs, folded !== visible, JSON.stringify(s));
  }
});
