/**
 * Sets one string value in a YAML file by editing the source text, so that everything else
 * (comments, blank lines, quoting, flow or block style, key order) stays byte for byte as the
 * operator wrote it. `yaml`'s Document.toString() keeps comments but re-renders the whole file
 * (flow maps re-spaced, quotes normalised, long lines folded), which turns a one-line
 * `tollgate policy set` into a diff of the whole config.
 * @module
 */
import { isDeepStrictEqual } from 'node:util';
import { isMap, isScalar, parse, parseDocument, type Document, type YAMLMap } from 'yaml';

/**
 * `text` with `path` set to `value`, changing only the edited scalar (or adding the missing keys
 * at the end of the deepest map that exists). Falls back to re-rendering the document when the
 * source shape is one this does not edit in place (e.g. the current value is a whole block of
 * inline policies); either way the result parses to the same data as `doc.setIn(path, value)`.
 */
export function setYamlString(text: string, path: readonly string[], value: string): string {
  const edited = editInPlace(text, path, value);
  const expected = parseDocument(text);
  expected.setIn(path, value);
  if (edited !== undefined) {
    // The edit is kept only if it means exactly what the re-rendered document means.
    const check = parseDocument(edited);
    if (check.errors.length === 0 && isDeepStrictEqual(check.toJS(), expected.toJS())) return edited;
  }
  return expected.toString();
}

function editInPlace(text: string, path: readonly string[], value: string): string | undefined {
  const doc: Document = parseDocument(text);
  if (doc.errors.length > 0) return undefined;
  let node: unknown = doc.contents;
  let depth = 0;
  for (; depth < path.length; depth++) {
    if (!isMap(node)) return undefined;
    const key = path[depth];
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    if (pair === undefined) break;
    if (depth === path.length - 1) {
      const current = pair.value;
      if (!isScalar(current) || current.range === undefined || current.range === null) return undefined;
      return text.slice(0, current.range[0]) + scalar(value) + text.slice(current.range[1]);
    }
    node = pair.value;
  }
  if (!isMap(node)) return undefined;
  return insertKeys(text, node, path.slice(depth), value);
}

/** Adds `keys` (the first missing one and those under it) with `value` at the end of `map`. */
function insertKeys(text: string, map: YAMLMap, keys: readonly string[], value: string): string | undefined {
  const range = map.range;
  if (range === undefined || range === null || keys.length === 0) return undefined;
  if (map.flow === true) {
    let close = range[1] - 1;
    while (close > range[0] && text[close] !== '}') close--;
    if (text[close] !== '}') return undefined;
    let end = close;
    while (end > range[0] && /\s/.test(text[end - 1] ?? '')) end--;
    const nested = keys.slice(1).reduceRight((inner, key) => `{ ${plainKey(key)}: ${inner} }`, scalar(value));
    const sep = map.items.length > 0 ? ', ' : ' ';
    return `${text.slice(0, end)}${sep}${plainKey(keys[0] ?? '')}: ${nested} ${text.slice(close)}`;
  }
  const first = map.items[0];
  const last = map.items[map.items.length - 1];
  const firstKey = isScalar(first?.key) ? first.key.range : undefined;
  if (firstKey === undefined || firstKey === null || last === undefined) return undefined;
  const indent = firstKey[0] - (text.lastIndexOf('\n', firstKey[0] - 1) + 1);
  const lastValue = last.value as { range?: readonly [number, number, number] | null } | null;
  const lastRange = lastValue?.range ?? (isScalar(last.key) ? last.key.range : undefined);
  if (lastRange === undefined || lastRange === null) return undefined;
  // After the last entry's line (its trailing comment included).
  let at = lastRange[1];
  if (text[at - 1] !== '\n') {
    const eol = text.indexOf('\n', at);
    at = eol === -1 ? text.length : eol + 1;
  }
  const lines = keys.map((key, i) => `${' '.repeat(indent + 2 * i)}${plainKey(key)}:${i === keys.length - 1 ? ` ${scalar(value)}` : ''}`);
  const before = text.slice(0, at);
  return `${before}${before.endsWith('\n') || before === '' ? '' : '\n'}${lines.join('\n')}\n${text.slice(at)}`;
}

/** A plain scalar when it reads back as the same string in block and flow context, else double-quoted. */
function scalar(value: string): string {
  if (/^[A-Za-z0-9_./-]+$/.test(value) && !/^[-.]/.test(value) && parse(value) === value) return value;
  return JSON.stringify(value);
}

function plainKey(key: string): string {
  return scalar(key);
}
