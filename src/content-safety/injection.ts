/**
 * Prompt-injection heuristics of the local engine: phrases that try to replace the model's
 * instructions ("ignore all previous instructions", "you are now DAN", "reveal your system
 * prompt", chat-template tokens). Every phrase is matched twice: on the folded text with any run
 * of non-letters between words, and on the letters-only form, so spacing, punctuation, zero-width
 * characters, look-alike letters and digit substitutions do not hide it (src/content-safety/normalise.ts).
 * Regular expressions here have no nested unbounded quantifiers: matching is linear in the text.
 * @module
 */
import { foldText, squash, visibleText } from './normalise.ts';

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
    .replaceAll(WORDS, squashed ? '[a-z]{0,60}?' : '(?:[a-z]+[^a-z]+){0,6}?');
  return new RegExp(squashed ? source : `(?<![a-z])${source}`);
}

const SPACED = new RegExp(PHRASES.map((p) => compile(p, false).source).join('|'));
const SQUASHED = new RegExp(PHRASES.map((p) => compile(p, true).source).join('|'));
/**
 * Chat-template control tokens smuggled into content, and a sentence opening "New instructions:",
 * matched before folding (which maps `|` to `l` and drops the colon).
 */
const TEMPLATE_TOKENS = /<\|(?:im_start|im_end|system|endoftext|start_header_id|eot_id)\|>|\[\/?inst\]|<<\/?sys>>|(?:^|[\n.!?]\s*)(?:new|updated|revised) (?:system )?instructions\s*:/;

export interface InjectionHit {
  /** Which form matched: the phrase as written, or only once spacing and punctuation were removed. */
  readonly form: 'spaced' | 'squashed' | 'template';
}

/** A prompt-injection phrase in `text`, or undefined. */
export function detectInjection(text: string): InjectionHit | undefined {
  const visible = visibleText(text).toLowerCase();
  if (TEMPLATE_TOKENS.test(visible)) return { form: 'template' };
  const folded = foldText(visible);
  if (SPACED.test(folded)) return { form: 'spaced' };
  if (SQUASHED.test(squash(folded))) return { form: 'squashed' };
  return undefined;
}
