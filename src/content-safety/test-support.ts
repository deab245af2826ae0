/**
 * Helpers for the content-safety tests: reproducible generated texts, for the tests that compare a
 * fast path with the expression or rule it stands for on many inputs.
 * @module
 */
import { createPrng } from '../util/hash.ts';

/**
 * `count` texts, each of 0 to `maxPieces - 1` pieces drawn (with repeats) from `pieces` (a string
 * draws single characters), from the PRNG seeded with `seed`: the same texts on every run.
 */
export function* generatedTexts(seed: number, pieces: string | readonly string[], count: number, maxPieces: number): Generator<string> {
  const rnd = createPrng(seed);
  for (let n = 0; n < count; n++) {
    let s = '';
    const len = Math.floor(rnd() * maxPieces);
    for (let i = 0; i < len; i++) s += pieces[Math.floor(rnd() * pieces.length)] as string;
    yield s;
  }
}
