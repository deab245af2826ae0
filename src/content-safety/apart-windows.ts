/**
 * Where the injection heuristics' squashed search looks (src/content-safety/injection.ts). A phrase
 * that only the letters-only form matches was disguised inside its own span: a word taken apart
 * ("ig-no-re", "i g n o r e"), or glued into one long run. So the search reads the text only
 * within reach of such evidence, where it read all of it whenever anything anywhere looked taken
 * apart. A URL, a path or code does ("docs.contoso.example/billing/refund-policy.html" has four
 * letter-symbol-letter breaks), so one link in a 16 KB document made the check 6× dearer
 * (38 → 244 µs; docs/content-safety.md, "The squashed search near its evidence").
 * @module
 */

/**
 * The most letters a match of `source` can span. `source` is a squashed phrase pattern, in the
 * syntax those use: letters, `(?:…)`, `|`, `?`, `{m,n}` (lazy or not) and `[a-z]`. Anything else
 * throws, so a phrase edited into another syntax fails when the module loads, not silently.
 */
export function maxMatchLetters(source: string): number {
  let at = 0;
  const fail = (): never => {
    throw new Error(`maxMatchLetters: unsupported syntax at ${at} in ${source.slice(Math.max(0, at - 20), at + 20)}`);
  };
  const alternatives = (): number => {
    let most = sequence();
    while (source[at] === '|') {
      at++;
      most = Math.max(most, sequence());
    }
    return most;
  };
  const sequence = (): number => {
    let sum = 0;
    while (at < source.length && source[at] !== '|' && source[at] !== ')') sum += quantified();
    return sum;
  };
  const quantified = (): number => {
    let n = atom();
    for (;;) {
      const c = source[at];
      if (c === '?') {
        at++;
      } else if (c === '{') {
        const m = /^\{(\d+),(\d+)\}/.exec(source.slice(at));
        if (m === null) return fail();
        n *= Number(m[2]);
        at += m[0].length;
      } else if (c === '*' || c === '+') {
        return fail();
      } else {
        return n;
      }
    }
  };
  const atom = (): number => {
    const c = source[at] as string;
    if (source.startsWith('(?:', at)) {
      at += 3;
      const n = alternatives();
      if (source[at] !== ')') return fail();
      at++;
      return n;
    }
    if (source.startsWith('[a-z]', at)) {
      at += 5;
      return 1;
    }
    if (c >= 'a' && c <= 'z') {
      at++;
      return 1;
    }
    return fail();
  };
  const n = alternatives();
  if (at !== source.length) fail();
  return n;
}

/** a-z: the folded text's letters. */
export const isLetter = (c: number): boolean => c >= 97 && c <= 122;

/** Evidence spans kept; past this many the squashed search reads the whole text. */
const MAX_EVIDENCE = 64;

/**
 * The "taken apart" judgement of one scan over a text's runs of letters, and where its signs are.
 * The verdict is the one the scan always gave (a run of 25 letters or more, three single letters
 * in a row, four letter-symbol-letter breaks), but the scan no longer stops at it: every sign is
 * evidence, so that a word taken apart after a URL is searched near where it is.
 */
export class ApartJudge {
  takenApart = false;
  #singles = 0;
  #singlesFrom = 0;
  #breaks = 0;
  #count = 0;
  readonly #evidence = new Int32Array(2 * MAX_EVIDENCE);

  reset(): void {
    this.takenApart = false;
    this.#singles = 0;
    this.#breaks = 0;
    this.#count = 0;
  }

  /** One run of letters, [start, end); `split` when a symbol and a letter follow it. */
  run(start: number, end: number, split: boolean): void {
    const length = end - start;
    if (length >= 25) {
      this.takenApart = true;
      this.#note(start, end);
    }
    if (length === 1) {
      if (this.#singles++ === 0) this.#singlesFrom = start;
      if (this.#singles >= 3) {
        this.takenApart = true;
        this.#note(this.#singlesFrom, end);
      }
    } else {
      this.#singles = 0;
    }
    if (split) {
      if (++this.#breaks >= 4) this.takenApart = true;
      // The run, the symbol and the letter after it.
      this.#note(start, end + 2);
    }
  }

  /** Where the squashed search reads in `text` (evidenceWindows), or null: all of it. */
  windows(text: string, reach: number): number[] | null {
    return this.#count > MAX_EVIDENCE ? null : evidenceWindows(text, this.#evidence, this.#count, reach);
  }

  #note(from: number, to: number): void {
    if (this.#count < MAX_EVIDENCE) {
      this.#evidence[2 * this.#count] = from;
      this.#evidence[2 * this.#count + 1] = to;
    }
    this.#count++;
  }
}

/**
 * The stretches of `text` the squashed search reads, as [from, to) pairs, in order and apart:
 * each evidence span ([from, to) pairs in `evidence`, `count` of them) widened by `reach` letters
 * on both sides. Spans closer than 2 × `reach` characters are joined first, so the letters are
 * counted out once per cluster, not per span.
 */
export function evidenceWindows(text: string, evidence: Int32Array, count: number, reach: number): number[] {
  const spans: Array<[number, number]> = [];
  for (let e = 0; e < count; e++) spans.push([evidence[2 * e] as number, evidence[2 * e + 1] as number]);
  spans.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  let e = 0;
  while (e < spans.length) {
    const [from] = spans[e] as [number, number];
    let to = (spans[e] as [number, number])[1];
    while (++e < spans.length && (spans[e] as [number, number])[0] - to < 2 * reach) to = Math.max(to, (spans[e] as [number, number])[1]);
    let start = from;
    for (let letters = 0; start > 0 && letters < reach; ) if (isLetter(text.charCodeAt(--start))) letters++;
    let end = Math.min(to, text.length);
    for (let letters = 0; end < text.length && letters < reach; ) if (isLetter(text.charCodeAt(end++))) letters++;
    // Joined with the previous window when the letters counted out reach it.
    if (out.length > 0 && start <= (out[out.length - 1] as number)) out[out.length - 1] = end;
    else out.push(start, end);
  }
  return out;
}
