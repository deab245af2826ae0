/**
 * Folds text to the form the injection heuristics match, so that the usual disguises do not hide
 * a phrase: Unicode compatibility forms (NFKC: full-width letters, ligatures, mathematical
 * alphanumerics), invisible characters (zero-width spaces and joiners, soft hyphens, word joiners,
 * bidi embeddings, overrides and isolates, the BOM, variation selectors and tag characters),
 * case, Cyrillic and Greek look-alikes, and the common digit-for-letter substitutions.
 * @module
 */
import { Buffer } from 'node:buffer';

/** Characters that render as nothing (or only reorder text) and so can split a word invisibly. */
const INVISIBLE = /[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]|\udb40[\udc00-\udc7f]/g;

/** Look-alikes of Latin letters (lower case; text is lower-cased first), and digit/symbol substitutions. */
const FOLD: Readonly<Record<string, string>> = {
  // Cyrillic
  а: 'a', б: 'b', в: 'b', г: 'r', д: 'd', е: 'e', ё: 'e', з: '3', и: 'u', к: 'k', л: 'n', м: 'm', н: 'h', о: 'o', п: 'n', р: 'p', с: 'c', т: 't', у: 'y', х: 'x', ь: 'b', ѕ: 's', і: 'i', ї: 'i', ј: 'j', ԁ: 'd', ԛ: 'q', ԝ: 'w', һ: 'h', ӏ: 'l', ү: 'y',
  // Greek
  α: 'a', β: 'b', γ: 'y', δ: 'd', ε: 'e', η: 'n', ι: 'i', κ: 'k', μ: 'u', ν: 'v', ο: 'o', ρ: 'p', σ: 'o', ς: 's', τ: 't', υ: 'u', χ: 'x', ω: 'w',
  // Latin look-alikes that NFKC keeps
  ı: 'i', ȷ: 'j', ɑ: 'a', ɡ: 'g', ɩ: 'i', ʟ: 'l', ɪ: 'i', ɴ: 'n', ʀ: 'r', ꜱ: 's', ᴀ: 'a', ᴄ: 'c', ᴅ: 'd', ᴇ: 'e', ᴋ: 'k', ᴍ: 'm', ᴏ: 'o', ᴘ: 'p', ᴛ: 't', ᴜ: 'u', ᴠ: 'v', ᴡ: 'w', ᴢ: 'z',
  // Digits and symbols for letters
  '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's', '!': 'i', '|': 'l',
};

const NON_ASCII = /[^\x00-\x7f]/g;
const foldChar = (c: string): string => FOLD[c] ?? c;
/** The ASCII substitutions as a code table (0: none), read per character without a property lookup. */
const ASCII_SUB = new Uint8Array(128);
for (const [from, to] of Object.entries(FOLD)) if (from.charCodeAt(0) < 128) ASCII_SUB[from.charCodeAt(0)] = to.charCodeAt(0);

/**
 * The text as the heuristics see it: NFKC, invisible characters removed, lower case, look-alikes
 * and substitutions folded. Accented letters keep their base letter (NFKD marks are dropped).
 */
export function foldText(text: string): string {
  return foldDigits(foldLookalikes(visibleText(text).toLowerCase()));
}

/** Look-alike letters of lower-case visible text folded to Latin; combining marks dropped. */
export function foldLookalikes(lowerVisible: string): string {
  if (isAscii(lowerVisible)) return lowerVisible;
  // Combining marks stacked on a letter ("i̇gnore", Zalgo text) are dropped, then look-alikes folded.
  const t = lowerVisible.normalize('NFKD').replace(/[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]/g, '');
  return t.replace(NON_ASCII, foldChar);
}

/** Where a substitute (digit or symbol for a letter) may stand: only words with one are looked at. */
const SUB_CHAR = new RegExp(
  `[${Object.keys(FOLD)
    .filter((k) => k.charCodeAt(0) < 128)
    .map((k) => k.replace(/[\\\]^-]/g, '\\$&'))
    .join('')}]`,
  'g',
);

/**
 * Digits and symbols for letters ("1gn0re" → "ignore"), inside words that also have letters and
 * in one- or two-character ones ("4", "15"): a longer plain number stays a number. Most words of
 * a prompt have no substitute, so the substitutes are found by a regular expression (native code)
 * and only the words around them are read character by character; no allocation when nothing
 * changes. `changed`, when given, receives the start and end of every folded word (in order).
 */
export function foldDigits(t: string, changed?: number[]): string {
  let out = '';
  let copied = 0;
  SUB_CHAR.lastIndex = 0;
  // `test`, not `exec`: no match array per substitute; the match is one character, just before lastIndex.
  while (SUB_CHAR.test(t)) {
    const at = SUB_CHAR.lastIndex - 1;
    let start = at;
    while (start > 0 && isWordChar(t.charCodeAt(start - 1))) start--;
    let end = at + 1;
    while (end < t.length && isWordChar(t.charCodeAt(end))) end++;
    SUB_CHAR.lastIndex = end;
    let letters = false;
    for (let j = start; j < end && !letters; j++) {
      const c = t.charCodeAt(j);
      letters = c >= 97 && c <= 122;
    }
    // A word of letters and substitutes, or a short all-substitute one ("4" a, "15" is, "70" to),
    // never a longer number.
    if (!letters && (end - start > 2 || !allSubs(t, start, end))) continue;
    let word = '';
    for (let j = start; j < end; j++) {
      const c = t.charCodeAt(j);
      word += String.fromCharCode(ASCII_SUB[c] === 0 ? c : (ASCII_SUB[c] as number));
    }
    out += t.slice(copied, start) + word;
    changed?.push(start, end);
    copied = end;
  }
  // A rope (cons string): the words scan reads a copy of its code units (injection.ts), and
  // regular expressions flatten it once, so it is not joined here (joining cost 2× in a profile).
  return copied === 0 ? t : out + t.slice(copied);
}

function allSubs(t: string, start: number, end: number): boolean {
  for (let j = start; j < end; j++) if (ASCII_SUB[t.charCodeAt(j)] === 0) return false;
  return true;
}

/** a-z, 0-9, and the symbols that stand for letters (@ $ ! |). */
function isWordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 64 || c === 36 || c === 33 || c === 124;
}

/** The forms of a text the heuristics look at, each computed once. */
export interface Folded {
  /** `visibleText`, lower case. */
  readonly visible: string;
  /** Look-alikes folded; digits not. */
  readonly letters: string;
  /** Look-alikes and digit substitutions folded (`foldText`). */
  readonly folded: string;
  /**
   * Start and end of each word whose digits or symbols were folded, in order: outside them
   * `letters` and `folded` are the same characters (both have the same length).
   */
  readonly changed: readonly number[];
  /**
   * `folded !== visible`, known without comparing them: for ASCII text only the digit fold changes
   * anything, and it lists what it changed (comparing a folded rope with its source read both up to
   * the first difference).
   */
  readonly differs: boolean;
}

export function foldLayers(text: string): Folded {
  const changed: number[] = [];
  if (isAscii(text)) {
    const lower = text.toLowerCase();
    const folded = foldDigits(lower, changed);
    return { visible: lower, letters: lower, folded, changed, differs: changed.length > 0 };
  }
  const visible = text.normalize('NFKC').replace(INVISIBLE, '').toLowerCase();
  const letters = foldLookalikes(visible);
  const folded = foldDigits(letters, changed);
  return { visible, letters, folded, changed, differs: folded !== visible };
}

/** NFKC with the invisible characters removed: what a reader sees, before any folding. */
export function visibleText(text: string): string {
  // Invisible and compatibility characters are all outside ASCII: plain ASCII text is already visible.
  if (isAscii(text)) return text;
  return text.normalize('NFKC').replace(INVISIBLE, '');
}

/**
 * Every character below U+0080: then and only then is the UTF-8 length the string's length (any
 * other code unit takes 2 or 3 bytes). V8 counts that in native code at a fraction of a regular
 * expression's cost (0.11 against 0.39 µs for `/[^\x00-\x7f]/` over the bench's 529 characters).
 */
function isAscii(text: string): boolean {
  return Buffer.byteLength(text, 'utf8') === text.length;
}

/** Only letters (after folding): "i g n o r e", "i.g.n.o.r.e" and "ign-ore" all become "ignore". */
export function squash(folded: string): string {
  return folded.replace(/[^a-z]+/g, '');
}
