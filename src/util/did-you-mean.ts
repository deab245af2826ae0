/**
 * "Did you mean" for load errors: the known name closest to a misspelled one, by edit distance
 * (optimal string alignment: insertions, deletions, substitutions and swaps of two neighbours, so
 * `Idd` → `Id` and `reosurce` → `resource` are one or two edits). Used for attributes, policy names,
 * `context` members and config fields, so every suggestion reads the same.
 * @module
 */

/** Optimal-string-alignment distance between `a` and `b`, or `limit + 1` as soon as it exceeds `limit`. */
export function editDistance(a: string, b: string, limit = Infinity): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let d = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (prev2[j - 2] ?? 0) + 1);
      cur.push(d);
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin > limit) return limit + 1;
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/**
 * The candidate closest to `name`: a case-insensitive match first, else the nearest within about
 * a third of the name's length (at least one edit, at most three), so unrelated names are not offered.
 * @example
 * ```ts
 * closest('Idd', ['Id', 'Name', 'Key']); // 'Id'
 * closest('xyz', ['Id', 'Name']);        // undefined
 * ```
 */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  const limit = Math.min(3, Math.max(1, Math.floor(name.length / 3)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    if (c === name) continue;
    const d = c.toLowerCase() === lower ? 0 : editDistance(lower, c.toLowerCase(), limit);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** `; did you mean "x"?` (the name shown by `show`), or '' when nothing is close. */
export function didYouMean(name: string, candidates: Iterable<string>, show: (c: string) => string = (c) => `"${c}"`): string {
  const c = closest(name, candidates);
  return c === undefined ? '' : `; did you mean ${show(c)}?`;
}

/** `show` for element names: `<set-header>`. */
export const asElement = (c: string): string => `<${c}>`;
