/**
 * The dot product of two vectors of the same length: for unit vectors, their cosine similarity.
 * Used by the exact scan of a small partition (vector-index.ts) and of the HNSW thread's insert
 * queue (hnsw-worker.ts), so both rank the same vectors with the same sums.
 * @module
 */
export function dot(v: Float32Array, q: Float32Array): number {
  const d = q.length;
  let sum = 0;
  // Four accumulators let the JIT overlap the multiply-adds (about 2× over one running sum).
  let a = 0;
  let b = 0;
  let c = 0;
  let i = 0;
  for (; i + 4 <= d; i += 4) {
    sum += (v[i] as number) * (q[i] as number);
    a += (v[i + 1] as number) * (q[i + 1] as number);
    b += (v[i + 2] as number) * (q[i + 2] as number);
    c += (v[i + 3] as number) * (q[i + 3] as number);
  }
  for (; i < d; i++) sum += (v[i] as number) * (q[i] as number);
  return sum + a + b + c;
}
