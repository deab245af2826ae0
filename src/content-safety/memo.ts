/**
 * What the local engine found in texts it has scanned before, by the exact text. A chat request
 * re-sends the application's system prompt and every earlier turn of the conversation each time;
 * with the memo each of those is scanned once, and a request costs the scan of what is new in it
 * plus a hash and a compare per piece (docs/content-safety.md, "Texts seen before").
 *
 * A text is kept the second time it comes: a prompt that is new every time costs a hash, not a
 * string the garbage collector must keep moving. An entry is found by a hash of a sample of the
 * text and confirmed by comparing the whole text, so a verdict is never reused for a different
 * text (no collision can pass an unchecked prompt). Texts made to share a hash are not kept past
 * four per hash, so they cost a scan each, not a growing chain of compares. Bounded by the
 * characters held (texts, the redacted and folded forms kept with them, and a fixed amount per
 * entry); the oldest entries go first.
 * @module
 */
import type { PiiMatch } from './pii.ts';

/**
 * The longest text kept: a long document is rarely re-sent word for word, and holding one would
 * evict many system prompts and turns.
 */
export const MEMO_MAX_TEXT = 16_383;
/** Texts kept per sampled hash: more that share one (made to collide) are scanned, not kept. */
const MAX_CHAIN = 4;
/** Characters the sampled hash reads, spread over the text. */
const SAMPLES = 32;
/**
 * What an entry costs besides its strings, in characters (the entry object, its bucket and map
 * slots, its place in the queue: ~130 bytes): many short texts cannot hold more than the bound.
 */
export const ENTRY_OVERHEAD = 64;
/** Slots of the table of texts seen once (a power of two; 32 KiB). */
const SEEN_SLOTS = 8192;

/** What is known of one text; each field is filled the first time a check needs it. */
export interface Scan {
  /** Personal data of the engine's types (`findPii`). */
  pii?: readonly PiiMatch[];
  /** The text with `pii` redacted, when `pii` is not empty. */
  redacted?: string;
  /** `detectInjection(text) !== undefined`. */
  attack?: boolean;
  /** `foldText(text)`, what blocklists match. */
  folded?: string;
}

interface Entry extends Scan {
  readonly text: string;
  readonly hash: number;
  /** Evicted: no longer counted (a caller may still hold it). */
  gone?: true;
}

/**
 * The length and 32 characters spread over the text. A `Map` keyed by the text itself hashes all
 * of it, and a prompt's strings are new objects on every request (JSON.parse), so V8 has no hash
 * cached: 0.81 µs for a 529-character prompt against 0.18 for this and the `===` that confirms
 * an entry (bench/content-safety.ts's prompt, in a loop).
 */
function sampledHash(text: string): number {
  const n = text.length;
  const step = n > SAMPLES ? Math.floor(n / SAMPLES) : 1;
  let h = n;
  for (let i = 0; i < n; i += step) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return h;
}

export class ScanMemo {
  readonly #maxChars: number;
  /** Entries by sampled hash; a bucket holds up to MAX_CHAIN texts, confirmed by `===`. */
  readonly #buckets = new Map<number, Entry[]>();
  /**
   * Sampled hashes of texts seen once, one per slot (direct-mapped, overwritten): a text is kept
   * the second time it comes. Keeping every text at once cost a prompt that is new every time
   * (+5 µs per request in bench/content-safety.ts --prompt unique): the strings then outlive a
   * few collections and the garbage collector copies them to the old generation.
   */
  readonly #seen = new Int32Array(SEEN_SLOTS);
  /** Entries in insertion order from `#head` on (a queue: eviction takes the oldest, so these are the live ones). */
  #order: Entry[] = [];
  #head = 0;
  #chars = 0;

  /** `maxChars` 0: nothing is kept. */
  constructor(maxChars: number) {
    this.#maxChars = maxChars;
  }

  /**
   * The entry of `text` (made empty the second time the text comes), or null when the text is
   * not kept: seen for the first time, too long, or one text too many on its hash.
   */
  entry(text: string): Scan | null {
    if (text.length > MEMO_MAX_TEXT || ENTRY_OVERHEAD + text.length > this.#maxChars) return null;
    const hash = sampledHash(text);
    let bucket = this.#buckets.get(hash);
    if (bucket !== undefined) {
      for (const e of bucket) if (e.text === text) return e;
      if (bucket.length >= MAX_CHAIN) return null;
    }
    const slot = hash & (SEEN_SLOTS - 1);
    if (this.#seen[slot] !== hash) {
      this.#seen[slot] = hash;
      return null;
    }
    if (bucket === undefined) {
      bucket = [];
      this.#buckets.set(hash, bucket);
    }
    const e: Entry = { text, hash };
    bucket.push(e);
    this.#order.push(e);
    this.#grow(ENTRY_OVERHEAD + text.length);
    return e;
  }

  /**
   * Accounts for a derived string just stored in `scan` (redacted, folded); evicts to stay
   * bounded. An entry evicted meanwhile is no longer counted.
   */
  hold(scan: Scan, chars: number): void {
    if ((scan as Entry).gone !== true) this.#grow(chars);
  }

  get size(): number {
    return this.#order.length - this.#head;
  }

  get chars(): number {
    return this.#chars;
  }

  #grow(chars: number): void {
    this.#chars += chars;
    while (this.#chars > this.#maxChars && this.#head < this.#order.length) this.#evict(this.#order[this.#head++] as Entry);
    // Drop the consumed front of the queue now and then, not per eviction.
    if (this.#head > 1024 && this.#head * 2 > this.#order.length) {
      this.#order = this.#order.slice(this.#head);
      this.#head = 0;
    }
  }

  #evict(e: Entry): void {
    const bucket = this.#buckets.get(e.hash) as Entry[];
    if (bucket.length === 1) this.#buckets.delete(e.hash);
    else bucket.splice(bucket.indexOf(e), 1);
    e.gone = true;
    this.#chars -= ENTRY_OVERHEAD + e.text.length + (e.redacted?.length ?? 0) + (e.folded?.length ?? 0);
  }
}
