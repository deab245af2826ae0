/**
 * @module
 * A byte-pair encoder over a compact rank table: tiktoken's `byte_pair_merge` with the ranks in
 * three typed arrays (token bytes back to back, their offsets, an open-addressing hash table)
 * instead of gpt-tokenizer's JavaScript Map of ~200,000 strings. Those strings and the Map are
 * ~20 MB of live V8 heap for o200k_base, which the old generation then multiplies by its growth
 * factor under load; typed arrays are ~5 MB outside the heap (docs/performance.md, "Issue 11, the
 * AI chain"). The table is read from gpt-tokenizer's own `.tiktoken` file, and the pieces are
 * split with gpt-tokenizer's own regular expression, so the ids are the same as its `encode`
 * (compact-bpe.test.ts compares them on a corpus in both encodings).
 *
 * Encoding only: special-token markup is plain text here (as the gateway counts it), and decoding
 * stays with gpt-tokenizer (only the simulator decodes).
 */

/** Marks an empty slot of the hash table. */
const EMPTY = -1;

/** Scratch sizes grow on demand; this covers a bounded segment (256 characters, 3 bytes each). */
const INITIAL_SCRATCH_BYTES = 1024;

/** FNV-1a over `bytes[start, end)`, 32 bits. */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
  return h >>> 0;
}

function base64Value(code: number): number {
  if (code >= 0x41 && code <= 0x5a) return code - 0x41; // A-Z
  if (code >= 0x61 && code <= 0x7a) return code - 0x61 + 26; // a-z
  if (code >= 0x30 && code <= 0x39) return code - 0x30 + 52; // 0-9
  if (code === 0x2b) return 62; // +
  if (code === 0x2f) return 63; // /
  return 0; // not in a well-formed file (padding is cut off before decoding)
}

/** Calls `line(start, space, end)` for each `<base64> <rank>` line of a `.tiktoken` file. */
function forEachLine(file: Uint8Array, line: (start: number, space: number, end: number) => void): void {
  for (let at = 0; at < file.length; ) {
    let end = file.indexOf(0x0a, at);
    if (end === -1) end = file.length;
    const space = file.indexOf(0x20, at);
    if (space > at && space < end) line(at, space, end);
    at = end + 1;
  }
}

function rankOf(file: Uint8Array, from: number, to: number): number {
  let rank = 0;
  for (let i = from; i < to; i++) {
    const digit = (file[i] as number) - 0x30;
    if (digit >= 0 && digit <= 9) rank = rank * 10 + digit;
  }
  return rank;
}

/** Base64 digits before the padding. */
function digitsOf(file: Uint8Array, from: number, to: number): number {
  let end = to;
  while (end > from && file[end - 1] === 0x3d) end--;
  return end - from;
}

/**
 * Parses a `.tiktoken` file (`<base64 token> <rank>` per line) into token bytes by rank, decoding
 * the base64 from the file's bytes: no string per token is made. Two passes (sizes, then bytes)
 * so that nothing but the two results is allocated.
 */
function parseTiktoken(file: Uint8Array): { bytes: Uint8Array; spans: Uint32Array } {
  let total = 0;
  let maxRank = -1;
  forEachLine(file, (start, space, end) => {
    total += Math.floor((digitsOf(file, start, space) * 6) / 8);
    maxRank = Math.max(maxRank, rankOf(file, space + 1, end));
  });
  const bytes = new Uint8Array(total);
  // Per rank, start and end in `bytes`; a rank missing from the file keeps an empty span and is never matched.
  const spans = new Uint32Array((maxRank + 1) * 2);
  let out = 0;
  forEachLine(file, (start, space, end) => {
    const rank = rankOf(file, space + 1, end);
    spans[rank * 2] = out;
    let bits = 0;
    let bitCount = 0;
    for (let i = start, stop = start + digitsOf(file, start, space); i < stop; i++) {
      bits = ((bits << 6) | base64Value(file[i] as number)) & 0xffffff;
      bitCount += 6;
      if (bitCount >= 8) {
        bitCount -= 8;
        bytes[out++] = (bits >> bitCount) & 0xff;
      }
    }
    spans[rank * 2 + 1] = out;
  });
  return { bytes, spans };
}

export class CompactBpe {
  /** All tokens' bytes back to back. */
  readonly #bytes: Uint8Array;
  /** Per rank, the start and end of its bytes in #bytes. */
  readonly #spans: Uint32Array;
  /** Open addressing by the hash of a token's bytes, linear probing; holds ranks or EMPTY. */
  readonly #table: Int32Array;
  readonly #mask: number;
  readonly #split: RegExp;
  /** The piece being merged, as UTF-8, and the merge's parts (start, rank of the pair at it). */
  #piece = new Uint8Array(INITIAL_SCRATCH_BYTES);
  #starts = new Int32Array(INITIAL_SCRATCH_BYTES + 2);
  #ranks = new Float64Array(INITIAL_SCRATCH_BYTES + 2);

  /**
   * @param tiktoken the encoding's `.tiktoken` file
   * @param split the encoding's pre-tokenizer (a global, unicode regular expression)
   *
   * @example
   * const bpe = new CompactBpe(readFileSync(o200kFile), O200K_TOKEN_SPLIT_REGEX);
   * bpe.count('hello world'); // 2
   */
  constructor(tiktoken: Uint8Array, split: RegExp) {
    const { bytes, spans } = parseTiktoken(tiktoken);
    this.#bytes = bytes;
    this.#spans = spans;
    this.#split = new RegExp(split.source, split.flags);
    const ranks = spans.length / 2;
    let size = 1;
    while (size < ranks * 2) size *= 2;
    this.#table = new Int32Array(size).fill(EMPTY);
    this.#mask = size - 1;
    for (let rank = 0; rank < ranks; rank++) {
      const start = spans[rank * 2] as number;
      const end = spans[rank * 2 + 1] as number;
      if (end === start) continue;
      let slot = hashBytes(bytes, start, end) & this.#mask;
      while (this.#table[slot] !== EMPTY) slot = (slot + 1) & this.#mask;
      this.#table[slot] = rank;
    }
  }

  /** Number of tokens `text` encodes to. */
  count(text: string): number {
    const split = this.#split;
    split.lastIndex = 0;
    let total = 0;
    for (let match = split.exec(text); match !== null; match = split.exec(text)) {
      total += this.#mergePiece(match[0]);
    }
    return total;
  }

  /** Token ids of `text`. */
  encode(text: string): number[] {
    const split = this.#split;
    split.lastIndex = 0;
    const ids: number[] = [];
    for (let match = split.exec(text); match !== null; match = split.exec(text)) {
      const parts = this.#mergePiece(match[0]);
      const piece = this.#piece;
      const starts = this.#starts;
      for (let i = 0; i < parts; i++) ids.push(this.#rank(piece, starts[i] as number, starts[i + 1] as number));
    }
    return ids;
  }

  /** Rank of `bytes[start, end)`, or -1 when it is not a token. */
  #rank(bytes: Uint8Array, start: number, end: number): number {
    const length = end - start;
    const all = this.#bytes;
    const spans = this.#spans;
    const table = this.#table;
    for (let slot = hashBytes(bytes, start, end) & this.#mask; ; slot = (slot + 1) & this.#mask) {
      const rank = table[slot] as number;
      if (rank === EMPTY) return -1;
      const at = spans[rank * 2] as number;
      if ((spans[rank * 2 + 1] as number) - at !== length) continue;
      let i = 0;
      while (i < length && all[at + i] === bytes[start + i]) i++;
      if (i === length) return rank;
    }
  }

  /**
   * Writes `text` as UTF-8 into the scratch piece (lone surrogates as U+FFFD, as TextEncoder does).
   * By hand rather than `TextEncoder.encodeInto`: pieces are a word or so long, and the native call
   * per piece made counting 10-35 % slower (the repo's docs and a short prompt, 4 alternating rounds).
   */
  #utf8(text: string): number {
    if (this.#piece.length < text.length * 3) {
      this.#piece = new Uint8Array(text.length * 3);
      this.#starts = new Int32Array(text.length * 3 + 2);
      this.#ranks = new Float64Array(text.length * 3 + 2);
    }
    const out = this.#piece;
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      let code = text.charCodeAt(i);
      if (code < 0x80) {
        out[n++] = code;
        continue;
      }
      if (code < 0x800) {
        out[n++] = 0xc0 | (code >> 6);
        out[n++] = 0x80 | (code & 0x3f);
        continue;
      }
      if (code >= 0xd800 && code <= 0xdfff) {
        const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
        if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
          i++;
          out[n++] = 0xf0 | (code >> 18);
          out[n++] = 0x80 | ((code >> 12) & 0x3f);
          out[n++] = 0x80 | ((code >> 6) & 0x3f);
          out[n++] = 0x80 | (code & 0x3f);
          continue;
        }
        code = 0xfffd;
      }
      out[n++] = 0xe0 | (code >> 12);
      out[n++] = 0x80 | ((code >> 6) & 0x3f);
      out[n++] = 0x80 | (code & 0x3f);
    }
    return n;
  }

  /**
   * tiktoken's byte_pair_merge over one piece: leaves the token boundaries in #starts and returns
   * how many tokens there are. A piece that is a token is one lookup.
   */
  #mergePiece(text: string): number {
    const length = this.#utf8(text);
    const piece = this.#piece;
    const starts = this.#starts;
    starts[0] = 0;
    starts[1] = length;
    if (length === 1 || this.#rank(piece, 0, length) !== -1) return 1;
    const ranks = this.#ranks;
    for (let i = 0; i < length; i++) {
      starts[i] = i;
      ranks[i] = i + 2 <= length ? this.#pairRank(piece, i, i + 2) : Infinity;
    }
    starts[length] = length;
    ranks[length] = Infinity;
    let parts = length; // tokens so far; starts[0..parts] are their boundaries
    for (;;) {
      let lowest = Infinity;
      let at = -1;
      for (let i = 0; i < parts - 1; i++) {
        const rank = ranks[i] as number;
        if (rank < lowest) {
          lowest = rank;
          at = i;
        }
      }
      if (at === -1) return parts;
      // Merge the tokens at `at` and `at + 1`: drop the boundary between them.
      starts.copyWithin(at + 1, at + 2, parts + 1);
      ranks.copyWithin(at + 1, at + 2, parts + 1);
      parts--;
      ranks[at] = at + 2 <= parts ? this.#pairRank(piece, starts[at] as number, starts[at + 2] as number) : Infinity;
      if (at > 0) ranks[at - 1] = this.#pairRank(piece, starts[at - 1] as number, starts[at + 1] as number);
    }
  }

  #pairRank(piece: Uint8Array, start: number, end: number): number {
    const rank = this.#rank(piece, start, end);
    return rank === -1 ? Infinity : rank;
  }
}
