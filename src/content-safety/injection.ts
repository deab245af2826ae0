/**
 * Prompt-injection heuristics of the local engine: phrases that try to replace the model's
 * instructions ("ignore all previous instructions", "you are now DAN", "reveal your system
 * prompt", chat-template tokens). Every phrase is matched twice: on the folded text with any run
 * of non-letters between words, and on the letters-only form, so spacing, punctuation, zero-width
 * characters, look-alike letters and digit substitutions do not hide it (src/content-safety/normalise.ts).
 * Regular expressions here have no nested unbounded quantifiers: matching is linear in the text.
 * @module
 */
import { foldLayers, squash } from './normalise.ts';

// In a pattern, `_` separates words and `_?` is an optional separator; a phrase is compiled once
// with separators as runs of non-letters (the spaced form) and once with none (the squashed form).
const V = '(?:ignore|disregard|forget|override|bypass|skip|abandon|discard|neglect|drop)';
const D = '(?:(?:all|any|the|every|each|of|your|my|these|those|this|that|previous)_){0,3}';
const Q = '(?:previous|prior|above|earlier|preceding|former|original|initial|system|developer|foregoing|existing)';
const T = '(?:instructions?|prompts?|rules|directions|directives|guidelines|guardrails|restrictions|constraints|programming|policies)';
const WORDS = '~'; // up to six words

const PHRASES: readonly string[] = [
  `${V}_${D}${Q}_${T}`,
  `${V}_(?:all|everything|anything)_(?:you_(?:were|have_been)_told|(?:that_)?(?:came_)?(?:before|above)|(?:i_)?said_(?:before|above)|(?:the_)?(?:rules|instructions))`,
  `you_(?:are|re)_now_(?:dan|free|unrestricted|unfiltered|uncensored|jailbroken|evil|unchained|liberated|in_(?:developer|god|dan|jailbreak|unrestricted)_mode|no_longer_(?:bound|restricted|an_ai|limited))`,
  `you_(?:are|re)_no_longer_(?:bound|restricted|limited|an_ai|required_to_follow)`,
  `(?:developer|god|dan|jailbreak|unrestricted|unfiltered)_mode_(?:enabled|activated|is_on|on)`,
  `(?:enable|activate|enter|switch_to)_(?:the_)?(?:developer|god|dan|jailbreak|unrestricted|unfiltered)_mode`,
  `do_anything_now`,
  `(?:reveal|print|show|repeat|output|display|leak|disclose|tell_me|give_me|write_out|spell_out|recite)_(?:me_)?(?:your|the)_(?:full_|entire_|complete_|exact_|hidden_|secret_|original_|initial_|verbatim_)?(?:system_prompt|system_message|initial_instructions|hidden_instructions|original_instructions|instructions_above|prompt_above|pre_?prompt|system_instructions|developer_(?:message|instructions))`,
  `(?:pretend|imagine|act|behave|roleplay)_(?:that_)?(?:you_are|you_re|to_be|as|like)_${WORDS}(?:without|with_no|free_of|free_from|unbound_by|no)_(?:any_|all_)?(?:restrictions|rules|limits|limitations|filters|guidelines|ethics|morals|censorship|boundaries|content_polic(?:y|ies))`,
  `(?:your_)?(?:new|updated|revised|real|actual|true)_(?:system_)?instructions_(?:are|follow|below|from_now)`,
  `from_now_on_you_(?:will|must|are|shall|should)_${WORDS}(?:ignore|not_follow|disregard|answer_without|respond_without|have_no|never_refuse)`,
  `(?:system|admin|administrator|developer|security)_override`,
  `(?:do_not|don_?t)_follow_(?:your|the|any)_(?:previous_|prior_|original_|system_)?(?:instructions|rules|guidelines|programming)`,
  `stop_following_(?:your|the|any)_(?:previous_|prior_|original_|system_)?(?:instructions|rules|guidelines|programming)`,
  `(?:bypass|disable|turn_off|remove|deactivate|ignore)_(?:your|the|all|any)_(?:safety|content|ethical|moral)_?(?:filters?|guidelines|guardrails|restrictions|protocols|settings|measures|training)`,
  `(?:respond|answer|reply)_(?:only_)?(?:without|with_no)_(?:any_)?(?:restrictions|filters|censorship|safety_(?:filters|guidelines))`,
];

function compile(phrase: string, squashed: boolean): RegExp {
  const source = phrase
    .replaceAll('_?', squashed ? '' : '(?:[^a-z]+)?')
    .replaceAll('_', squashed ? '' : '[^a-z]+')
    // Up to six words: linear in both forms (letters and separators never overlap).
    .replaceAll(WORDS, squashed ? '[a-z]{0,60}?' : '(?:[a-z]+[^a-z]+){0,8}?');
  return new RegExp(source);
}

/**
 * Every word a phrase can start with. A flat alternation of words is matched quickly by V8
 * (a few µs over a long prompt), while the phrases' alternation tried at every position costs
 * ~20× more; so the phrases are tried (sticky) only where one of these words starts.
 * src/content-safety/injection.test.ts checks the two ways agree on every labelled prompt.
 */
const FIRST_WORDS = new RegExp(
  // A word start is the text's start or a non-letter before the word (consumed: a leading
  // character class lets the engine skip ahead cheaply, where a look-behind is tried at every
  // position; the scan took twice as long with one).
  `(?:^|[^a-z])(?:${[
    'ignore', 'disregard', 'forget', 'override', 'bypass', 'skip', 'abandon', 'discard', 'neglect', 'drop',
    'you', 'developer', 'god', 'dan', 'jailbreak', 'unrestricted', 'unfiltered', 'enable', 'activate', 'enter', 'switch',
    'do', 'don', 'dont', 'reveal', 'print', 'show', 'repeat', 'output', 'display', 'leak', 'disclose', 'tell', 'give', 'write', 'spell', 'recite',
    'pretend', 'imagine', 'act', 'behave', 'roleplay', 'your', 'new', 'updated', 'revised', 'real', 'actual', 'true', 'from',
    'system', 'admin', 'administrator', 'security', 'stop', 'disable', 'turn', 'remove', 'deactivate', 'respond', 'answer', 'reply',
  ].join('|')})(?![a-z])`,
  'g',
);
const PHRASE_AT = new RegExp(PHRASES.map((p) => compile(p, false).source).join('|'), 'y');
/** The same phrases tried at every word start (tests compare it with the anchored search). */
export const SPACED_FULL_SCAN = new RegExp(`(?<![a-z])(?:${PHRASE_AT.source})`);

export function spacedPhrase(folded: string): boolean {
  FIRST_WORDS.lastIndex = 0;
  // `test`, not `exec`: no match array per candidate word (a prompt has dozens of them). The
  // word ends at lastIndex and starts after the non-letter (or the text's start) before it.
  while (FIRST_WORDS.test(folded)) {
    let start = FIRST_WORDS.lastIndex;
    while (start > 0 && isLetter(folded.charCodeAt(start - 1))) start--;
    PHRASE_AT.lastIndex = start;
    if (PHRASE_AT.test(folded)) return true;
  }
  return false;
}

const isLetter = (c: number): boolean => c >= 97 && c <= 122;
// Chat-template tokens taken apart ("< | i m _ s t a r t | >") leave these letters behind.
const SQUASHED = new RegExp([...PHRASES.map((p) => compile(p, true).source), 'imstart|imend|endoftext|startheaderid'].join('|'));
/**
 * Signs that words were taken apart: three single letters in a row ("i g n"), a word longer
 * than any English one ("ignorepreviousinstructions"), or several letter-symbol-letter breaks
 * ("ig-no-re pre.vi.ous"; an e-mail address or one hyphenated word is not enough). Only then is
 * the letters-only form worth matching. One pass over the character codes, run by run (17 %
 * less CPU than a branch per character: 1.01 against 1.21 µs on the bench's prompt).
 */
function takenApart(s: string): boolean {
  const n = s.length;
  let singles = 0;
  let splits = 0;
  let i = 0;
  while (i < n) {
    // Skip to the next letter, then read its run of letters: [start, i); c is the character
    // that ended it (when i < n). Two tight loops instead of one branch per character.
    let c = s.charCodeAt(i);
    while (c < 97 || c > 122) {
      if (++i >= n) return false;
      c = s.charCodeAt(i);
    }
    const start = i;
    do {
      if (++i >= n) break;
      c = s.charCodeAt(i);
    } while (c >= 97 && c <= 122);
    const run = i - start;
    if (run >= 25) return true;
    singles = run === 1 ? singles + 1 : 0;
    if (singles >= 3) return true;
    // A symbol between two letters (not a space or an apostrophe): "ig-no-re", "i.g.n".
    if (i + 1 < n && c !== 32 && c !== 39 && c !== 10 && c !== 13 && c !== 9) {
      const next = s.charCodeAt(i + 1);
      if (next >= 97 && next <= 122 && ++splits >= 4) return true;
    }
  }
  return false;
}

/** Chat-template control tokens smuggled into content, matched before folding (which maps `|` to `l`). */
const TEMPLATE_TOKENS = /<\|(?:im_start|im_end|system|endoftext|start_header_id|eot_id)\|>|\[\/?inst\]|<<\/?sys>>/;
/**
 * Every chat-template token has "<|", "inst]" or "<<" in it: without one the token search is
 * skipped (a redacted prompt has brackets, "[EMAIL_REDACTED]", and would otherwise always pay it).
 */
const mayHoldToken = (s: string): boolean => s.includes('<|') || s.includes('inst]') || s.includes('<<');
/** A sentence opening "New instructions:", on the folded text (look-alikes and digits undone, the colon kept). */
const NEW_INSTRUCTIONS = /(?:^|[\n.!?]\s*)(?:new|updated|revised)[^a-z\n:]+(?:system[^a-z\n:]+)?instructions\s*:/;

export interface InjectionHit {
  /** Which form matched: the phrase as written, or only once spacing and punctuation were removed. */
  readonly form: 'spaced' | 'squashed' | 'template';
}

/** A prompt-injection phrase in `text`, or undefined. */
export function detectInjection(text: string): InjectionHit | undefined {
  const { visible, letters, folded } = foldLayers(text);
  // (The folded text is the visible one, the same string, when no digit or look-alike was folded.)
  if ((visible.includes('<') || visible.includes('[')) && ((mayHoldToken(visible) && TEMPLATE_TOKENS.test(visible)) || (folded !== visible && mayHoldToken(folded) && TEMPLATE_TOKENS.test(folded)))) {
    return { form: 'template' };
  }
  // Whether words were taken apart is judged before digits are folded ("1 g n 0 r 3" has single
  // letters in a row either way; a digit-folded phone number would look like letters taken apart).
  if (spacedPhrase(folded) || (folded.includes('instructions') && NEW_INSTRUCTIONS.test(folded))) return { form: 'spaced' };
  if (takenApart(letters) && SQUASHED.test(squash(folded))) return { form: 'squashed' };
  return undefined;
}
