/**
 * Prompt vectors remembered per (embeddings backend, exact prompt text), least recently used
 * out first. The same model gives the same text the same vector, so a repeated prompt (the
 * cache's common case) is looked up without an embeddings round trip: a hit then costs a hash,
 * a map read and the partition search. A changed prompt, even by one character, is embedded.
 * @module
 */
import { sha256Id } from './digest.ts';

export class EmbeddingMemo {
  #max: number;
  readonly #entries = new Map<string, Float32Array>();

  constructor(maxEntries: number) {
    this.#max = maxEntries;
  }

  /** The key of a text (a hash: prompts can be long, and keys stay in memory; digest.ts remembers short ones). */
  key(backendId: string, text: string): string {
    return sha256Id(`${backendId}\u0000${text}`);
  }

  /** False when the memo keeps nothing (`embeddingsMemo: 0`): the lookup then skips the key's hash. */
  get enabled(): boolean {
    return this.#max > 0;
  }

  get(key: string): Float32Array | undefined {
    const v = this.#entries.get(key);
    if (v === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, v);
    return v;
  }

  /** A new bound (a configuration reload): the oldest vectors over it are dropped at once; 0 turns the memo off. */
  resize(maxEntries: number): void {
    this.#max = maxEntries;
    for (const key of this.#entries.keys()) {
      if (this.#entries.size <= maxEntries) break;
      this.#entries.delete(key);
    }
  }

  set(key: string, vector: Float32Array): void {
    if (this.#max === 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, vector);
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value as string);
  }
}
