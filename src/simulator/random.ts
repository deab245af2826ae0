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

export { createPrng } from '../util/hash.ts';
