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

/** A remembered count, linked in recency order (least recently used first). */
interface Entry {
  readonly text: string;
  readonly packed: number;
  older: Entry | null;
  newer: Entry | null;
}

export class CountMemo {
  readonly #entries = new Map<string, Entry>();
  /**
   * Recency is a linked list beside the Map: moving a hit to the back is four pointer writes,
   * where a delete and a set on the Map left holes that made it rehash into a new table every so
   * often (~280 bytes allocated a request for the bench's four strings).
   */
  #oldest: Entry | null = null;
  #newest: Entry | null = null;
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
    const entry = this.#entries.get(text);
    if (entry === undefined) return undefined;
    if (entry !== this.#newest) {
      this.#unlink(entry);
      this.#append(entry);
    }
    return entry.packed;
  }

  set(text: string, tokens: number, cost: number): void {
    const n = text.length;
    if (n > MEMO_MAX_STRING_CHARS || n > this.#maxChars || cost >= COST_BITS) return;
    const entries = this.#entries;
    if (entries.has(text)) return;
    const entry: Entry = { text, packed: tokens * COST_BITS + cost, older: null, newer: null };
    entries.set(text, entry);
    this.#append(entry);
    this.#chars += n;
    while (entries.size > this.#maxEntries || this.#chars > this.#maxChars) {
      const oldest = this.#oldest as Entry;
      entries.delete(oldest.text);
      this.#chars -= oldest.text.length;
      this.#unlink(oldest);
    }
  }

  #append(entry: Entry): void {
    entry.older = this.#newest;
    entry.newer = null;
    if (this.#newest === null) this.#oldest = entry;
    else this.#newest.newer = entry;
    this.#newest = entry;
  }

  #unlink(entry: Entry): void {
    if (entry.older === null) this.#oldest = entry.newer;
    else entry.older.newer = entry.newer;
    if (entry.newer === null) this.#newest = entry.older;
    else entry.newer.older = entry.older;
  }
}

export function memoTokens(packed: number): number {
  return Math.floor(packed / COST_BITS);
}

export function memoCost(packed: number): number {
  return packed % COST_BITS;
}
