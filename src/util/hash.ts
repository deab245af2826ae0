/**
 * Small non-cryptographic hashes and a seeded PRNG, shared by the simulator (reply choice,
 * failure draws), the local embedder (feature hashing), the expression engine (`new Random(seed)`)
 * and seeded tests. Deterministic across runs and platforms.
 * @module
 */

/** murmur3 fmix32: spreads every input bit over the whole word. */
export function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over UTF-16 code units, seeded, finished with `mix32`. */
export function hash32(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/**
 * mulberry32: tiny, fast, and good enough for picking words and failure draws.
 *
 * @example
 * const next = createPrng(42);
 * next(); // same first value for every run seeded with 42, in [0, 1)
 */
export function createPrng(seed: number): () => number {
  let state = seed >>> 0;
  return function nextRandom(): number {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
