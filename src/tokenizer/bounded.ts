/**
 * @module
 * Bounded token counting. BPE merging is quadratic in the length of one pre-tokenizer piece (a
 * run of letters, punctuation or whitespace), so a 60 KB word with no spaces used to hold the
 * event loop for seconds. Here the BPE only ever sees segments of at most {@link SEGMENT_CHARS}
 * characters, and one request's exact work is capped by a {@link CountBudget}: text beyond the
 * budget is counted on evenly spread sample windows and extrapolated by their tokens per character.
 *
 * Cuts are placed just before a space that starts a word, where the encoders' split regex
 * (o200k_base and cl100k_base) starts a new piece anyway, so ordinary text counts exactly as one
 * `encode` call would. Only a run of more than {@link SEGMENT_CHARS} characters without such a
 * space is cut inside a piece, which can add about one token per cut.
 */
import { memoCost, memoTokens, type CountMemo } from './count-memo.ts';

/** Longest text handed to the BPE in one call: its quadratic merge stays well under a millisecond. */
export const SEGMENT_CHARS = 256;

/**
 * Budget units (characters, long runs weighted) one request may count exactly, all its strings
 * together; past it, strings are sampled. Measured in bench/tokenizer-bounds.ts: ordinary text
 * of up to 16 Ki characters counts exactly, larger text within about 2% (see docs/limits.md).
 */
export const EXACT_BUDGET_CHARS = 16 * 1024;

/** Budget weight of a segment with no word start in it (see segmentCost). */
const LONG_RUN_WEIGHT = 4;

/** Size of one sample window when a string is larger than what is left of the budget. */
const SAMPLE_WINDOW_CHARS = 512;

/** How far a sample window's start moves forward to begin at a word, as a whole count would. */
const ALIGN_SEARCH_CHARS = 64;

/** Below this much budget a sample window is too small to say much; the request's ratio is used. */
const MIN_SAMPLE_CHARS = 512;

/** Characters per token assumed before anything was counted (English averages about four). */
const DEFAULT_CHARS_PER_TOKEN = 4;

/** One request's allowance of exact counting, and what was measured with it (for extrapolation). */
export class CountBudget {
  remaining: number;
  countedChars = 0;
  countedTokens = 0;

  constructor(chars: number = EXACT_BUDGET_CHARS) {
    this.remaining = chars;
  }

  /** Tokens per character seen so far in this request, or a default before any count. */
  ratio(): number {
    return this.countedChars === 0 ? 1 / DEFAULT_CHARS_PER_TOKEN : this.countedTokens / this.countedChars;
  }
}

function isWhitespace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d) || code === 0x85 || code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000;
}

/** True when a piece boundary falls right before index `i`: a space followed by a non-space. */
function isWordStart(text: string, i: number): boolean {
  return text.charCodeAt(i) === 0x20 && i + 1 < text.length && !isWhitespace(text.charCodeAt(i + 1));
}

/**
 * Where the segment that starts at `start` ends (exclusive), at most {@link SEGMENT_CHARS} later:
 * the last word start in range if there is one (an exact cut), otherwise a hard cut that does not
 * split a surrogate pair.
 */
export function segmentEnd(text: string, start: number, end: number = text.length): number {
  const limit = start + SEGMENT_CHARS;
  if (limit >= end) return end;
  for (let i = limit; i > start; i--) if (isWordStart(text, i)) return i;
  const code = text.charCodeAt(limit);
  return code >= 0xdc00 && code <= 0xdfff ? limit - 1 : limit;
}

/**
 * Budget units a segment costs. Text without word starts (one long word, CJK, runs of symbols)
 * reaches the BPE as long uncached pieces, which measured 5-30 us per character against about
 * 1 us for ordinary words, so it is charged {@link LONG_RUN_WEIGHT} times its length.
 */
function segmentCost(text: string, start: number, stop: number): number {
  const n = stop - start;
  if (n < SEGMENT_CHARS / 4) return n;
  for (let i = start + 1; i < stop; i++) if (isWordStart(text, i)) return n;
  return n * LONG_RUN_WEIGHT;
}

/** Counts `text[start, end)` one bounded segment per BPE call, charging the budget as it goes. */
function countRange(text: string, start: number, end: number, count: (segment: string) => number, budget: CountBudget): { tokens: number; chars: number } {
  let tokens = 0;
  let at = start;
  while (at < end) {
    const stop = segmentEnd(text, at, end);
    tokens += count(text.slice(at, stop));
    budget.remaining -= segmentCost(text, at, stop);
    at = stop;
  }
  budget.countedChars += end - start;
  budget.countedTokens += tokens;
  return { tokens, chars: end - start };
}

/** Charges a whole exact count of `n` characters to the budget. */
function charge(budget: CountBudget, n: number, tokens: number, cost: number): number {
  budget.remaining -= cost;
  budget.countedChars += n;
  budget.countedTokens += tokens;
  return tokens;
}

/** Budget units `text` would cost to count whole, or Infinity once it exceeds `limit` (no full scan of huge text). */
function costOf(text: string, limit: number): number {
  if (text.length > limit) return Infinity;
  let cost = 0;
  for (let at = 0; at < text.length && cost <= limit; ) {
    const stop = segmentEnd(text, at);
    cost += segmentCost(text, at, stop);
    at = stop;
  }
  return cost;
}

/**
 * Tokens of `text`: exact (in bounded segments) while the budget lasts, otherwise extrapolated
 * from evenly spread sample windows that use what is left of the budget, or, once too little is
 * left, from the request's own tokens per character so far. With a `memo`, a string counted whole
 * before is not counted again (count-memo.ts); the budget is charged the same.
 */
export function countBounded(text: string, count: (segment: string) => number, budget: CountBudget, memo?: CountMemo): number {
  const n = text.length;
  if (n === 0) return 0;
  if (memo !== undefined) {
    const packed = memo.get(text);
    // Charged as counting it again would be; a text that no longer fits the budget is sampled below.
    if (packed !== undefined && memoCost(packed) <= budget.remaining) return charge(budget, n, memoTokens(packed), memoCost(packed));
  }
  if (n <= SEGMENT_CHARS) {
    // The common case (a short message, a name, a role): one BPE call, no scanning.
    const cost = segmentCost(text, 0, n);
    if (cost <= budget.remaining) {
      const tokens = count(text);
      memo?.set(text, tokens, cost);
      return charge(budget, n, tokens, cost);
    }
  }
  const cost = costOf(text, budget.remaining);
  if (cost <= budget.remaining) {
    const tokens = countRange(text, 0, n, count, budget).tokens;
    memo?.set(text, tokens, cost);
    return tokens;
  }
  if (budget.remaining < MIN_SAMPLE_CHARS) return Math.max(1, Math.round(n * budget.ratio()));
  const windows = Math.max(1, Math.floor(budget.remaining / SAMPLE_WINDOW_CHARS));
  const width = Math.floor(budget.remaining / windows);
  let chars = 0;
  let tokens = 0;
  // Long runs cost more than planned, so the loop may stop early (having sampled at least one window).
  for (let w = 0; w < windows && (w === 0 || budget.remaining > 0); w++) {
    let start = Math.floor((w * n) / windows);
    // Begin at a word as a whole count would (the first window already does).
    for (let i = start, stop = Math.min(n, start + ALIGN_SEARCH_CHARS); w > 0 && i < stop; i++) {
      if (isWordStart(text, i)) {
        start = i;
        break;
      }
    }
    const counted = countRange(text, start, Math.min(n, start + width), count, budget);
    tokens += counted.tokens;
    chars += counted.chars;
  }
  budget.remaining = Math.min(budget.remaining, 0);
  return Math.max(1, Math.round((tokens * n) / chars));
}
