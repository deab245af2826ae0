/**
 * Prompt-injection heuristics of the local engine: phrases that try to replace the model's
 * instructions ("ignore all previous instructions", "you are now DAN", "reveal your system
 * prompt", chat-template tokens). Every phrase is matched twice: on the folded text with any run
 * of non-letters between words, and on the letters-only form, so spacing, punctuation, zero-width
 * characters, look-alike letters and digit substitutions do not hide it (src/content-safety/normalise.ts).
 * Regular expressions here have no nested unbounded quantifiers: matching is linear in the text.
 * @module
 */
import { Buffer } from 'node:buffer';
import { endianness } from 'node:os';
import { ApartJudge, isLetter, maxMatchLetters } from './apart-windows.ts';
import { foldLayers, squash } from './normalise.ts';

// In a pattern, `_` separates words and `_?` is an optional separator; a phrase is compiled once
// with separators as runs of non-letters (the spaced form) and once with none (the squashed form).
const VERBS = 'ignore disregard forget override bypass skip abandon discard neglect drop';
const V = `(?:${VERBS.replaceAll(' ', '|')})`;
const D = '(?:(?:all|any|the|every|each|of|your|my|these|those|this|that|previous)_){0,3}';
const Q = '(?:previous|prior|above|earlier|preceding|former|original|initial|system|developer|foregoing|existing)';
const T = '(?:instructions?|prompts?|rules|directions|directives|guidelines|guardrails|restrictions|constraints|programming|policies)';
const WORDS = '~'; // up to six words

/**
 * The phrases, each with the words it can start with: the run of letters a match starts with
 * (`don_?t` starts with "don" or "dont", `(?:your_)?new` with "your" or "new"). A phrase is tried
 * only at a word it can start with (src/content-safety/injection.test.ts compares that with
 * trying every phrase at every word start).
 */
const PHRASES: readonly (readonly [starts: string, pattern: string])[] = [
  [VERBS, `${V}_${D}${Q}_${T}`],
  [VERBS, `${V}_(?:all|everything|anything)_(?:you_(?:were|have_been)_told|(?:that_)?(?:came_)?(?:before|above)|(?:i_)?said_(?:before|above)|(?:the_)?(?:rules|instructions))`],
  ['you', `you_(?:are|re)_now_(?:dan|free|unrestricted|unfiltered|uncensored|jailbroken|evil|unchained|liberated|in_(?:developer|god|dan|jailbreak|unrestricted)_mode|no_longer_(?:bound|restricted|an_ai|limited))`],
  ['you', `you_(?:are|re)_no_longer_(?:bound|restricted|limited|an_ai|required_to_follow)`],
  ['developer god dan jailbreak unrestricted unfiltered', `(?:developer|god|dan|jailbreak|unrestricted|unfiltered)_mode_(?:enabled|activated|is_on|on)`],
  ['enable activate enter switch', `(?:enable|activate|enter|switch_to)_(?:the_)?(?:developer|god|dan|jailbreak|unrestricted|unfiltered)_mode`],
  ['do', `do_anything_now`],
  ['reveal print show repeat output display leak disclose tell give write spell recite', `(?:reveal|print|show|repeat|output|display|leak|disclose|tell_me|give_me|write_out|spell_out|recite)_(?:me_)?(?:your|the)_(?:full_|entire_|complete_|exact_|hidden_|secret_|original_|initial_|verbatim_)?(?:system_prompt|system_message|initial_instructions|hidden_instructions|original_instructions|instructions_above|prompt_above|pre_?prompt|system_instructions|developer_(?:message|instructions))`],
  ['pretend imagine act behave roleplay', `(?:pretend|imagine|act|behave|roleplay)_(?:that_)?(?:you_are|you_re|to_be|as|like)_${WORDS}(?:without|with_no|free_of|free_from|unbound_by|no)_(?:any_|all_)?(?:restrictions|rules|limits|limitations|filters|guidelines|ethics|morals|censorship|boundaries|content_polic(?:y|ies))`],
  ['your new updated revised real actual true', `(?:your_)?(?:new|updated|revised|real|actual|true)_(?:system_)?instructions_(?:are|follow|below|from_now)`],
  ['from', `from_now_on_you_(?:will|must|are|shall|should)_${WORDS}(?:ignore|not_follow|disregard|answer_without|respond_without|have_no|never_refuse)`],
  ['system admin administrator developer security', `(?:system|admin|administrator|developer|security)_override`],
  ['do don dont', `(?:do_not|don_?t)_follow_(?:your|the|any)_(?:previous_|prior_|original_|system_)?(?:instructions|rules|guidelines|programming)`],
  ['stop', `stop_following_(?:your|the|any)_(?:previous_|prior_|original_|system_)?(?:instructions|rules|guidelines|programming)`],
  ['bypass disable turn remove deactivate ignore', `(?:bypass|disable|turn_off|remove|deactivate|ignore)_(?:your|the|all|any)_(?:safety|content|ethical|moral)_?(?:filters?|guidelines|guardrails|restrictions|protocols|settings|measures|training)`],
  ['respond answer reply', `(?:respond|answer|reply)_(?:only_)?(?:without|with_no)_(?:any_)?(?:restrictions|filters|censorship|safety_(?:filters|guidelines))`],
];

function compile(phrase: string, squashed: boolean): RegExp {
  const source = phrase
    .replaceAll('_?', squashed ? '' : '(?:[^a-z]+)?')
    .replaceAll('_', squashed ? '' : '[^a-z]+')
    // Up to six words: linear in both forms (letters and separators never overlap).
    .replaceAll(WORDS, squashed ? '[a-z]{0,60}?' : '(?:[a-z]+[^a-z]+){0,8}?');
  return new RegExp(source);
}

/** Each phrase's first words and its spaced form, compiled once for both searches below. */
const SPACED: readonly (readonly [starts: readonly string[], source: string])[] = PHRASES.map(([starts, p]) => [starts.split(' '), compile(p, false).source]);
/** Every word a phrase can start with. */
const FIRST_WORDS: readonly string[] = [...new Set(SPACED.flatMap(([starts]) => starts))];
/** Every phrase tried at every word start (tests compare it with the search at first words). */
export const SPACED_FULL_SCAN = new RegExp(`(?<![a-z])(?:${SPACED.map(([, source]) => source).join('|')})`);

/**
 * The first words as a set of hashes of their letters (HASH_BITS + 1 bits, one per value): a word
 * of the text whose hash is not in it starts no phrase. The phrases are tried (sticky) only at
 * the few words whose hash is in it: a false hit costs one failed sticky test, never a verdict.
 * The phrases' alternation tried at every position costs ~20× more, and the earlier scan for the
 * words by one regular expression (an alternation of 60 words) read the text once more than the
 * "taken apart" scan, which reads it word by word anyway (docs/content-safety.md).
 */
const HASH_BITS = 2047;
// A bit set of 256 bytes (four cache lines): in a gateway the table is cold at every request,
// and a byte per value (4 KB) was read at ~100 random places per prompt.
const FIRST_WORD_HASHES = new Uint32Array((HASH_BITS + 1) / 32);
for (const w of FIRST_WORDS) {
  const h = wordHash(w, 0, w.length) & HASH_BITS;
  FIRST_WORD_HASHES[h >>> 5] = (FIRST_WORD_HASHES[h >>> 5] as number) | (1 << (h & 31));
}
/**
 * The phrases to try (sticky) at a word, by the word's hash value: those that can start with any
 * first word of that value. Where one alternation of all 16 used to be tried at each such word,
 * this is 2-3 phrases: 283 against 605 ns for the 4 words of the bench's prompt ("you" twice,
 * "tell", "reply") tried alone, 0.05-0.10 µs of the whole check, and less compiled code touched.
 */
const PHRASES_AT = new Map<number, RegExp>();
for (const [value, patterns] of Map.groupBy(
  SPACED.flatMap(([starts, source]) => starts.map((w) => [wordHash(w, 0, w.length) & HASH_BITS, source] as const)),
  ([value]) => value,
)) {
  PHRASES_AT.set(value, new RegExp([...new Set(patterns.map(([, source]) => source))].join('|'), 'y'));
}
/** Words longer than this start no phrase ("administrator"). */
const FIRST_WORD_MAX = Math.max(...FIRST_WORDS.map((w) => w.length));

function wordHash(s: string, start: number, end: number): number {
  let h = 0;
  for (let i = start; i < end; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** What `scanWords` looks for and finds. */
const PHRASE = 1;
const APART = 2;

/** A phrase of the spaced form at a word start of `folded` (lower case, folded). */
export function spacedPhrase(folded: string): boolean {
  return scanWords(folded, folded, NONE_CHANGED, PHRASE) === PHRASE;
}

const NONE_CHANGED: readonly number[] = [];
// Chat-template tokens taken apart ("< | i m _ s t a r t | >") leave these letters behind.
const SQUASHED = new RegExp([...PHRASES.map(([, p]) => compile(p, true).source), 'imstart|imend|endoftext|startheaderid'].join('|'));
/** The most letters a squashed match spans: how far from its evidence the squashed search reads. */
export const SQUASHED_REACH = maxMatchLetters(SQUASHED.source);

/**
 * One pass over the words (runs of letters) of `folded` for what `what` asks, returning PHRASE,
 * APART or 0:
 * - PHRASE: a phrase starts at a word of `folded` (the first found ends the scan);
 * - APART: signs that words of `letters` (the same text before digits were folded) were taken
 *   apart, after which only the letters-only form is worth matching: three single letters in a
 *   row ("i g n"), a word longer than any English one ("ignorepreviousinstructions"), or several
 *   letter-symbol-letter breaks ("ig-no-re pre.vi.ous"; an e-mail address or one hyphenated word
 *   is not enough).
 * The judgement reads every run to the end (`judge` keeps where its signs are, for the squashed
 * search); the phrases end the scan at the first found.
 * The two texts differ only inside the `changed` words (foldLayers), where a folded digit joins
 * what are two words in `letters`: a word of `folded` that overlaps one is re-read in `letters`.
 * One loop for both (each used to read every character), over a copy of the code units
 * (`codeUnits`).
 */
function scanWords(folded: string, letters: string, changed: readonly number[], what: number): number {
  const n = folded.length;
  const s = codeUnits(folded);
  const phrases = (what & PHRASE) !== 0;
  const apart = (what & APART) !== 0;
  judge.reset();
  let k = 0;
  let i = 0;
  while (i < n) {
    // Skip to the next letter, then read its run of letters: [start, i); c is the character
    // that ended it (when i < n). Two tight loops rather than a branch per character.
    let c = s[i] as number;
    while (c < 97 || c > 122) {
      if (++i >= n) return judge.takenApart ? APART : 0;
      c = s[i] as number;
    }
    const start = i;
    let h = c;
    for (;;) {
      if (++i >= n) break;
      c = s[i] as number;
      if (c < 97 || c > 122) break;
      h = (Math.imul(h, 31) + c) | 0;
    }
    const run = i - start;
    if (phrases && run <= FIRST_WORD_MAX && (((FIRST_WORD_HASHES[(h & HASH_BITS) >>> 5] as number) >>> (h & 31)) & 1) === 1) {
      // Every value in the bit set is a key of PHRASES_AT (both come from the first words).
      const re = PHRASES_AT.get(h & HASH_BITS) as RegExp;
      re.lastIndex = start;
      if (re.test(folded)) return PHRASE;
    }
    if (!apart) continue;
    while (k < changed.length && (changed[k + 1] as number) <= start) k += 2;
    if (k < changed.length && (changed[k] as number) < i) {
      // Digits were folded in this word: judge the runs of letters `letters` has in [start, i).
      let j = start;
      for (;;) {
        let d = letters.charCodeAt(j);
        while ((d < 97 || d > 122) && j < i) d = letters.charCodeAt(++j);
        if (j >= i) break;
        const from = j;
        do d = letters.charCodeAt(++j);
        while (d >= 97 && d <= 122);
        judge.run(from, j, isSymbol(d) && isLetter(letters.charCodeAt(j + 1)));
        if (j >= i) break;
      }
    } else {
      // The letter after a symbol, read in `letters`: only where a folded word starts there
      // (this run overlaps none, so it cannot be before i + 1) does it differ from `folded`.
      const after = i + 1 < n && isSymbol(c) ? (k < changed.length && changed[k] === i + 1 ? letters.charCodeAt(i + 1) : (s[i + 1] as number)) : 0;
      judge.run(start, i, isLetter(after));
    }
  }
  return judge.takenApart ? APART : 0;
}

/** The "taken apart" judgement of the current scan (scanWords resets it) and its evidence. */
const judge = new ApartJudge();

/**
 * The squashed phrases within reach of the evidence the scan left (`readAll`: anywhere, as the
 * search was before it kept near its evidence).
 */
function squashedPhrase(folded: string, readAll: boolean): boolean {
  const w = readAll ? null : judge.windows(folded, SQUASHED_REACH);
  if (w === null) return SQUASHED.test(squash(folded));
  for (let i = 0; i < w.length; i += 2) if (SQUASHED.test(squash(folded.slice(w[i], w[i + 1])))) return true;
  return false;
}

/** What ends a run of letters and, with a letter after it, breaks a word: "ig-no-re", "i.g.n" (not a space or an apostrophe; NaN at the end counts, and no letter follows it). */
const isSymbol = (c: number): boolean => c !== 32 && c !== 39 && c !== 10 && c !== 13 && c !== 9;

/** Code units kept between calls up to this many; a longer text gets a copy of its own. */
const SCRATCH_UNITS = 32 * 1024;
const LITTLE_ENDIAN = endianness() === 'LE';
let scratch = new Uint16Array(1024);
let scratchBytes = Buffer.from(scratch.buffer);

/**
 * The text's UTF-16 code units in a typed array (valid up to `text.length`; the rest is stale).
 * Indexing it is ~20 % faster than `charCodeAt` in the words loop (0.81 against 1.04 µs over the
 * bench's prompt, copy included), and stays fast where `charCodeAt` is no longer inlined: once
 * any object in the process has `String.prototype` as its prototype (ioredis's VerbatimString,
 * loaded when a Redis client is made), character loops run 4-8× slower (docs/performance.md).
 */
function codeUnits(text: string): Uint16Array {
  let units = scratch;
  let bytes = scratchBytes;
  if (text.length > units.length) {
    units = new Uint16Array(text.length);
    bytes = Buffer.from(units.buffer);
    if (text.length <= SCRATCH_UNITS) {
      scratch = units;
      scratchBytes = bytes;
    }
  }
  const written = bytes.write(text, 0, 'utf16le');
  if (!LITTLE_ENDIAN) bytes.subarray(0, written).swap16();
  return units;
}

/**
 * Chat-template control tokens smuggled into content, matched before folding (which maps `|` to
 * `l`): `<|im_start|>`, `<|im_end|>`, `<|system|>`, `<|endoftext|>`, `<|start_header_id|>`,
 * `<|eot_id|>`, `[INST]`, `[/INST]`, `<<SYS>>`, `<</SYS>>` (lower case: the text is).
 * `templateToken` is `TEMPLATE_TOKENS.test` by hand (src/content-safety/injection.test.ts compares
 * them): every token starts with '<' or '[', so it reads the text for those two characters only,
 * once each, where the search used to read it up to five times (for '<' and '[', then for
 * "<|", "inst]" and "<<" before the expression ran).
 */
export const TEMPLATE_TOKENS = /<\|(?:im_start|im_end|system|endoftext|start_header_id|eot_id)\|>|\[\/?inst\]|<<\/?sys>>/;
const PIPE_TOKENS = ['im_start|>', 'im_end|>', 'system|>', 'endoftext|>', 'start_header_id|>', 'eot_id|>'] as const;

/** What `templateToken` finds: neither '<' nor '[' in the text, one of them but no token, a token. */
export const NO_BRACKET = 0;
export const BRACKET = 1;
export const TOKEN = 2;

export function templateToken(s: string): number {
  let found = NO_BRACKET;
  for (let k = s.indexOf('<'); k >= 0; k = s.indexOf('<', k + 1)) {
    found = BRACKET;
    const next = s.charCodeAt(k + 1);
    if (next === 124) {
      for (const t of PIPE_TOKENS) if (s.startsWith(t, k + 2)) return TOKEN;
    } else if (next === 60 && (s.startsWith('sys>>', k + 2) || s.startsWith('/sys>>', k + 2))) {
      return TOKEN;
    }
  }
  for (let k = s.indexOf('['); k >= 0; k = s.indexOf('[', k + 1)) {
    found = BRACKET;
    if (s.startsWith('inst]', k + 1) || s.startsWith('/inst]', k + 1)) return TOKEN;
  }
  return found;
}
/** A sentence opening "New instructions:", on the folded text (look-alikes and digits undone, the colon kept). */
const NEW_INSTRUCTIONS = /(?:^|[\n.!?]\s*)(?:new|updated|revised)[^a-z\n:]+(?:system[^a-z\n:]+)?instructions\s*:/;

export interface InjectionHit {
  /** Which form matched: the phrase as written, or only once spacing and punctuation were removed. */
  readonly form: 'spaced' | 'squashed' | 'template';
}

/** A prompt-injection phrase in `text`, or undefined. */
export function detectInjection(text: string): InjectionHit | undefined {
  return detect(text, false);
}

/**
 * `detectInjection` with the squashed search over the whole text whenever anything looks taken
 * apart, as it was before the search kept near its evidence: tests compare the two.
 */
export function detectInjectionReadingAll(text: string): InjectionHit | undefined {
  return detect(text, true);
}

function detect(text: string, readAll: boolean): InjectionHit | undefined {
  const { visible, letters, folded, changed, differs } = foldLayers(text);
  // The folded text is searched only when the visible one has a '<' or '[' (NFKD can make a '<'
  // of a character that is none: "≮"), as the search always was.
  const token = templateToken(visible);
  if (token === TOKEN || (token === BRACKET && differs && templateToken(folded) === TOKEN)) return { form: 'template' };
  // Whether words were taken apart is judged before digits are folded ("1 g n 0 r 3" has single
  // letters in a row either way; a digit-folded phone number would look like letters taken apart).
  // One pass finds both the phrases (on the folded text) and whether words were taken apart (on
  // the letters).
  const words = scanWords(folded, letters, changed, PHRASE | APART);
  if (words === PHRASE || (folded.includes('instructions') && NEW_INSTRUCTIONS.test(folded))) return { form: 'spaced' };
  if (words === APART && squashedPhrase(folded, readAll)) return { form: 'squashed' };
  return undefined;
}
