/**
 * @module
 * Seeded hashing and PRNG: the simulator's replies and injected failures must be reproducible
 * from run to run, so nothing here touches `Math.random`.
 */

import { hash32 } from '../util/hash.ts';

export { mix32 } from '../util/hash.ts';

/** FNV-1a with a murmur3 finaliser (shared with the embedder); `seed` selects an independent hash. */
export function hashString(text: string, seed = 0): number {
  return hash32(text, seed);
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
