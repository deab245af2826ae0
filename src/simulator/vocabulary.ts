/**
 * @module
 * The simulator's "model": word soup drawn from a fixed vocabulary. Every word, written with a
 * leading space, is exactly one token in both o200k_base and cl100k_base (vocabulary.test.ts
 * checks this), and a space-led lowercase word is always its own pre-token, so a reply of N words
 * is exactly N completion tokens whatever the model's encoding.
 */
import { createPrng } from './random.ts';

export const SIM_VOCABULARY: readonly string[] = `
the of and to in is that for it as was with be by on not he this are or his from at which but have
an they you were her she there been one all we their has would when if so no will more can who out
about up into them than only other time new some could these two may first then do any like my now
over such our man me even most made after also did many before must through back years where much
your way well down should because each just those people how too little state good very make world
still own see men work long here get both between life being under never day same another know
while last might us great old year off come since against go came right used take three states
himself few house use during without again place around however home small found thought went say
part once general high upon school every does got united left number course war until always away
something fact though water less public put think almost hand enough far took head yet government
system better set told nothing night end why called find going look asked later knew point next
program city business give group toward young days let room president side social given present
order national possible rather second face per among form important often things looked early
white case become large big need four within felt along children saw best church ever least power
development light thing family interest want members mind country area others done turned although
open problem sense help certain real across action economic question kind matter
`
  .trim()
  .split(/\s+/);

/**
 * `count` reply tokens, each a vocabulary word with its leading space, chosen by a PRNG seeded
 * with `seed`: the same seed always yields the same reply.
 *
 * @example
 * generateTokens(7, 3).join(''); // e.g. " world school since" (always the same for seed 7)
 */
export function generateTokens(seed: number, count: number): string[] {
  const next = createPrng(seed);
  const tokens = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const word = SIM_VOCABULARY[Math.floor(next() * SIM_VOCABULARY.length)] ?? 'the';
    tokens[i] = ` ${word}`;
  }
  return tokens;
}
