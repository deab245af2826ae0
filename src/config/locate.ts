/**
 * Maps a path inside the parsed YAML (e.g. ["apis","azure-openai","backend"]) back to the
 * line and column in the file, so every config error reads `file:line:col: message`.
 * @module
 */
import { isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

export interface SourcePosition {
  readonly line: number;
  readonly col: number;
}

/** The position of the deepest node the path reaches (the parent when a key is missing). */
export function locate(doc: Document, lineCounter: LineCounter, path: readonly PropertyKey[], atKey = false): SourcePosition {
  let node: unknown = doc.contents;
  let pos = startOf(node as Node | null) ?? 0;
  for (const [i, seg] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      pos = startOf(pair.key as Node) ?? pos;
      if (atKey && i === path.length - 1) break;
      node = pair.value;
      pos = startOf(node as Node | null) ?? pos;
    } else if (isSeq(node)) {
      const item: unknown = node.items[Number(seg)];
      if (item === undefined) break;
      node = item;
      pos = startOf(node as Node | null) ?? pos;
    } else {
      break;
    }
  }
  const lp = lineCounter.linePos(pos);
  return { line: lp.line, col: lp.col };
}

function startOf(node: Node | null | undefined): number | undefined {
  return node && 'range' in node && node.range ? node.range[0] : undefined;
}
