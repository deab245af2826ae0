/**
 * Helpers for the semantic cache's tests (unit and end to end).
 * @module
 */
import { createRequire } from 'node:module';
import { unitVector } from './vector-index.ts';

/** A reproducible random unit vector of `d` dimensions (xorshift from `seed`). */
export function randomUnit(d: number, seed: number): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const v = new Float32Array(d);
  for (let i = 0; i < d; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    v[i] = s / 4294967296 - 0.5;
  }
  return unitVector(v);
}

/** The usearch files this thread loaded through require (usearch is CommonJS): none while the HNSW thread does the searching. */
export function usearchLoadedHere(): string[] {
  return Object.keys(createRequire(import.meta.url).cache).filter((f) => /[\\/]usearch[\\/]/.test(f));
}
