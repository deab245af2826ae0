/**
 * `JToken.Path` and `SelectToken` for simple paths: `a.b[0].c`, `$.a`, `['odd name']`. Wildcards,
 * recursive descent and filters are refused rather than half-implemented.
 * @module
 */
import { CsError } from './errors.ts';
import { JArray, JObject, JProperty, type JToken } from './json.ts';

const PLAIN = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Newtonsoft's Path: `messages[0].content`, `['a b'].c`. */
export function tokenPath(t: JToken): string {
  const segs: string[] = [];
  let cur: JToken = t;
  while (cur.parent !== null) {
    const p: JToken = cur.parent;
    if (p instanceof JArray) segs.push(`[${p.items.indexOf(cur)}]`);
    else if (cur instanceof JProperty) segs.push(PLAIN.test(cur.name) ? `.${cur.name}` : `['${cur.name.replaceAll("'", "\\'")}']`);
    cur = p;
  }
  if (t instanceof JProperty && t.parent === null) segs.push(`.${t.name}`);
  const s = segs.reverse().join('');
  return s.startsWith('.') ? s.slice(1) : s;
}

type Seg = { readonly name: string } | { readonly index: number };

function bad(path: string, why: string): CsError {
  return new CsError('Newtonsoft.Json.JsonException', `Unsupported or invalid JSON path '${path}': ${why}.`);
}

function parsePath(path: string): Seg[] {
  const segs: Seg[] = [];
  let i = path.startsWith('$') ? 1 : 0;
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      if (path[i + 1] === '.') throw bad(path, 'recursive descent (..) is not supported');
      i++;
      continue;
    }
    if (c === '[') {
      const close = path.indexOf(']', i);
      if (close < 0) throw bad(path, "missing ']'");
      const inner = path.slice(i + 1, close).trim();
      const q = /^'((?:[^'\\]|\\.)*)'$|^"((?:[^"\\]|\\.)*)"$/.exec(inner);
      if (q !== null) segs.push({ name: (q[1] ?? q[2] ?? '').replace(/\\(.)/g, '$1') });
      else if (/^\d+$/.test(inner)) segs.push({ index: Number(inner) });
      else throw bad(path, `'[${inner}]' is not supported (only [n] and ['name'])`);
      i = close + 1;
      continue;
    }
    let j = i;
    while (j < path.length && path[j] !== '.' && path[j] !== '[') j++;
    const name = path.slice(i, j);
    if (name === '*' || name.includes('?') || name.includes('(')) throw bad(path, 'wildcards and filters are not supported');
    segs.push({ name });
    i = j;
  }
  return segs;
}

/** The token at `path`, or null (or an error with `errorWhenNoMatch`). */
export function selectToken(root: JToken, path: string, errorWhenNoMatch: boolean): JToken | null {
  let cur: JToken | null = root;
  for (const seg of parsePath(path)) {
    if (cur === null) break;
    if ('name' in seg) cur = cur instanceof JObject ? cur.get(seg.name) : null;
    else cur = cur instanceof JArray ? (cur.items[seg.index] ?? null) : null;
  }
  if (cur === null && errorWhenNoMatch) throw new CsError('Newtonsoft.Json.JsonException', `Path '${path}' does not match a token.`);
  return cur;
}
