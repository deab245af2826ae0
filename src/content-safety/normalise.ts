/**
 * Folds text to the form the injection heuristics match, so that the usual disguises do not hide
 * a phrase: Unicode compatibility forms (NFKC: full-width letters, ligatures, mathematical
 * alphanumerics), invisible characters (zero-width spaces and joiners, soft hyphens, word joiners,
 * bidi embeddings, overrides and isolates, the BOM, variation selectors and tag characters),
 * case, Cyrillic and Greek look-alikes, and the common digit-for-letter substitutions.
 * @module
 */

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

const FOLDABLE = /[^\x00-\x7f]|[013457@$!|]/g;
const foldChar = (c: string): string => FOLD[c] ?? c;

/**
 * The text as the heuristics see it: NFKC, invisible characters removed, lower case, look-alikes
 * and substitutions folded. Accented letters keep their base letter (NFKD marks are dropped).
 */
export function foldText(text: string): string {
  let t = visibleText(text).toLowerCase();
  // Combining marks stacked on a letter ("i̇gnore", Zalgo text) are dropped.
  if (/[^\x00-\x7f]/.test(t)) t = t.normalize('NFKD').replace(/[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]/g, '');
  return t.replace(FOLDABLE, foldChar);
}

/** NFKC with the invisible characters removed: what a reader sees, before any folding. */
export function visibleText(text: string): string {
  return text.normalize('NFKC').replace(INVISIBLE, '');
}

/** Only letters (after folding): "i g n o r e", "i.g.n.o.r.e" and "ign-ore" all become "ignore". */
export function squash(folded: string): string {
  return folded.replace(/[^a-z]+/g, '');
}
