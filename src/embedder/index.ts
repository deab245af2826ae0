/**
 * @module
 * A deterministic, dependency-free lexical embedder. It stands in for a real embedding model
 * where one is not available: the simulator's `/embeddings` and the semantic cache's default
 * vectoriser. It captures word overlap and spelling closeness, not meaning ("car" and
 * "automobile" are unrelated to it).
 *
 * Features, each feature-hashed with a signed hash so collisions cancel out on average:
 * - word unigrams (weight 1), word bigrams (weight 0.7): topical and phrase overlap;
 * - character 3-grams of each word padded with spaces (weight 0.25 each): typos and inflections
 *   ("reset" vs "resetting") still share most of their grams.
 */
import { hash32 } from '../util/hash.ts';

/**
 * Only the first 64 Ki UTF-16 code units are read, so the cost per call is bounded whatever the
 * caller passes; two texts that differ only beyond that point embed identically.
 */
export const MAX_EMBED_CHARS = 64 * 1024;
/** Upper bound on `dimensions`; text-embedding-3-large, the widest common model, uses 3072. */
export const MAX_EMBED_DIMENSIONS = 16_384;

const UNIGRAM_WEIGHT = 1;
const BIGRAM_WEIGHT = 0.7;
const TRIGRAM_WEIGHT = 0.25;

// Distinct seeds keep the word "ab" and the character gram "ab" from landing in the same bucket
// with the same sign every time.
const UNIGRAM_SEED = 0x9e3779b1;
const BIGRAM_SEED = 0x85ebca6b;
const TRIGRAM_SEED = 0xc2b2ae35;

const WORD_PATTERN = /[\p{L}\p{N}]+/gu;


function addFeature(vector: Float32Array, feature: string, seed: number, weight: number): void {
  const h = hash32(feature, seed);
  // The lowest bit picks the sign, the rest picks the bucket, so the two are independent.
  const bucket = (h >>> 1) % vector.length;
  vector[bucket] = (vector[bucket] ?? 0) + ((h & 1) === 0 ? weight : -weight);
}

function normalise(vector: Float32Array): Float32Array {
  let sumSquares = 0;
  for (const value of vector) sumSquares += value * value;
  if (sumSquares === 0) return vector;
  const scale = 1 / Math.sqrt(sumSquares);
  for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] ?? 0) * scale;
  return vector;
}

function tokenizeWords(text: string): string[] {
  const normalised = text.slice(0, MAX_EMBED_CHARS).normalize('NFKC').toLowerCase();
  return normalised.match(WORD_PATTERN) ?? [];
}

/**
 * Embeds `text` into an L2-normalised vector of `dimensions` floats. Same input, same output;
 * text without letters or digits gives the zero vector (never NaN).
 *
 * @example
 * const a = embedText('How do I reset my password?', 256);
 * const b = embedText('how can I reset my password', 256);
 * cosineSimilarity(a, b); // high (about 0.8)
 */
export function embedText(text: string, dimensions: number): Float32Array {
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > MAX_EMBED_DIMENSIONS) {
    throw new RangeError(
      `embedText: dimensions must be an integer from 1 to ${MAX_EMBED_DIMENSIONS}, got ${String(dimensions)}`,
    );
  }
  const vector = new Float32Array(dimensions);
  const words = tokenizeWords(text);
  let previous: string | undefined;
  for (const word of words) {
    addFeature(vector, word, UNIGRAM_SEED, UNIGRAM_WEIGHT);
    if (previous !== undefined) addFeature(vector, `${previous} ${word}`, BIGRAM_SEED, BIGRAM_WEIGHT);
    previous = word;
    const padded = ` ${word} `;
    for (let i = 0; i + 3 <= padded.length; i++) {
      addFeature(vector, padded.slice(i, i + 3), TRIGRAM_SEED, TRIGRAM_WEIGHT);
    }
  }
  return normalise(vector);
}

/**
 * Cosine similarity in [-1, 1]; 0 when either vector is all zeros or the lengths differ (vectors
 * of different sizes come from different models and are not comparable).
 *
 * @example
 * cosineSimilarity(embedText('red apple', 64), embedText('red apple', 64)); // 1 (within float error)
 */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length === 0) return 0;
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  if (normA === 0 || normB === 0) return 0;
  return dot / Math.sqrt(normA * normB);
}
