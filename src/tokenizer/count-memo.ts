/**
 * @module
 * Remembered token counts of whole strings, per encoding. Chat clients resend the whole
 * conversation on every turn: the system prompt, tool results and earlier messages reach the
 * gateway again verbatim, and each was tokenized in full every time (BPE costs about a
 * microsecond per character; a Map lookup of the same string costs a hash of it, once per string).
 *
 * Only exact counts are kept (a string counted whole within the request's budget, see bounded.ts),
 * with the budget units counting it cost, so a remembered count charges the request's budget
 * exactly as counting it again would: counts are the same with and without the memo
 * (count-memo.test.ts). Bounded by entries and by characters; least recently used first out.
 */

/** Entries kept per encoding. */
export const MEMO_MAX_ENTRIES = 8192;

/** Characters kept per encoding, all entries together (at most ~4 MB of string data). */
export const MEMO_MAX_CHARS = 2 * 1024 * 1024;

/**
 * Longest string remembered. V8 hashes a longer string by its length alone, so strings of one
 * length past it would share a hash bucket; the exact budget (16 Ki) is larger by one anyway.
 */
export const MEMO_MAX_STRING_CHARS = 16_383;

/** tokens and cost packed into one number (cost < 2^17: 16 Ki characters weighted at most 4×). */
const COST_BITS = 131_072;

export class CountMemo {
  readonly #entries = new Map<string, number>();
  #chars = 0;
  readonly #maxEntries: number;
  readonly #maxChars: number;

  constructor(maxEntries = MEMO_MAX_ENTRIES, maxChars = MEMO_MAX_CHARS) {
    this.#maxEntries = maxEntries;
    this.#maxChars = maxChars;
  }

  get size(): number {
    return this.#entries.size;
  }

  get chars(): number {
    return this.#chars;
  }

  /** The remembered count of `text` and its budget cost as `tokens * 2^17 + cost`, or undefined. */
  get(text: string): number | undefined {
    const entries = this.#entries;
    const packed = entries.get(text);
    if (packed !== undefined) {
      // Most recently used goes last (Map keeps insertion order).
      entries.delete(text);
      entries.set(text, packed);
    }
    return packed;
  }

  set(text: string, tokens: number, cost: number): void {
    const n = text.length;
    if (n > MEMO_MAX_STRING_CHARS || n > this.#maxChars || cost >= COST_BITS) return;
    const entries = this.#entries;
    if (entries.has(text)) return;
    entries.set(text, tokens * COST_BITS + cost);
    this.#chars += n;
    if (entries.size <= this.#maxEntries && this.#chars <= this.#maxChars) return;
    for (const oldest of entries.keys()) {
      entries.delete(oldest);
      this.#chars -= oldest.length;
      if (entries.size <= this.#maxEntries && this.#chars <= this.#maxChars) return;
    }
  }
}

export function memoTokens(packed: number): number {
  return Math.floor(packed / COST_BITS);
}

export function memoCost(packed: number): number {
  return packed % COST_BITS;
}
