/**
 * Source bookkeeping shared by the XML reader and the named-value substitution: offset → line:col,
 * entity decoding, and the limits every policy document is held to.
 * @module
 */
import type { SourcePos } from './element.ts';

/** Documents larger than this (UTF-8 bytes) are refused before parsing. */
export const MAX_DOC_BYTES = 1024 * 1024;
/** Elements nested deeper than this are refused (the reader recurses once per level). */
export const MAX_DEPTH = 64;

/** Maps an offset in the text being parsed to a position in the file the user wrote. */
export type Locate = (offset: number) => SourcePos;

/**
 * Line starts of one text. CRLF is one line break, and so is a lone CR (XML treats both as LF),
 * so a file checked out with either line ending reports the same line:col.
 */
export class LineIndex {
  readonly #starts: number[] = [0];

  constructor(text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) this.#starts.push(i + 1);
      else if (c === 13 && text.charCodeAt(i + 1) !== 10) this.#starts.push(i + 1);
    }
  }

  /** 1-based line and column (UTF-16 code units) of `offset`. */
  lineCol(offset: number): { line: number; col: number } {
    const starts = this.#starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - (starts[lo] ?? 0) + 1 };
  }
}

/** A `Locate` for text that is exactly the file's content. */
export function locatorFor(text: string, file: string): Locate {
  const index = new LineIndex(text);
  return (offset) => ({ file, ...index.lineCol(offset) });
}

export function isXmlSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\n' || c === '\t' || c === '\r';
}

/** Index of the first non-XML-whitespace character at or after `i` (or `text.length`). */
export function skipSpace(text: string, i: number): number {
  while (i < text.length && isXmlSpace(text[i])) i++;
  return i;
}

export function trimXmlSpace(s: string): string {
  return s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
}

/** XML end-of-line handling: CRLF and lone CR become LF in every value. */
export function normalizeNewlines(s: string): string {
  return s.includes('\r') ? s.replace(/\r\n?/g, '\n') : s;
}

const ENTITY = /&(?:#([0-9]{1,8})|#x([0-9A-Fa-f]{1,8})|(quot|apos|lt|gt|amp));/y;
const NAMED_ENTITY_LIKE = /&[A-Za-z_][A-Za-z0-9_.-]{0,31};/y;
const PREDEFINED: Readonly<Record<string, string>> = { quot: '"', apos: "'", lt: '<', gt: '>', amp: '&' };

export type EntityResult =
  | { readonly kind: 'ok'; readonly char: string; readonly length: number }
  | { readonly kind: 'bad'; readonly message: string }
  | { readonly kind: 'none' };

/**
 * Decodes the entity starting at `text[i] === '&'`: one of the five predefined entities or a
 * character reference. `none` means the `&` does not start anything entity-shaped (inside a policy
 * expression that `&` is literal, e.g. `&&`); `bad` is an entity-shaped reference that cannot be
 * decoded.
 */
export function entityAt(text: string, i: number): EntityResult {
  ENTITY.lastIndex = i;
  const m = ENTITY.exec(text);
  if (m) {
    const [whole, dec, hex, name] = m;
    if (name !== undefined) return { kind: 'ok', char: PREDEFINED[name] ?? '', length: whole.length };
    const code = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex ?? '', 16);
    if (!isXmlChar(code)) return { kind: 'bad', message: `character reference ${whole} is not a valid XML character` };
    return { kind: 'ok', char: String.fromCodePoint(code), length: whole.length };
  }
  NAMED_ENTITY_LIKE.lastIndex = i;
  const named = NAMED_ENTITY_LIKE.exec(text);
  if (named) return { kind: 'bad', message: `unknown entity ${named[0]} (only &quot; &apos; &lt; &gt; &amp; and &#...; are defined)` };
  return { kind: 'none' };
}

function isXmlChar(c: number): boolean {
  return c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

/** Decodes a policy expression's source: entities that decode are decoded, any other `&` is literal. */
export function decodeExpression(raw: string): string {
  if (!raw.includes('&')) return normalizeNewlines(raw);
  let out = '';
  let from = 0;
  for (let i = raw.indexOf('&'); i !== -1; i = raw.indexOf('&', i + 1)) {
    const e = entityAt(raw, i);
    if (e.kind !== 'ok') continue;
    out += normalizeNewlines(raw.slice(from, i)) + e.char;
    from = i + e.length;
    i = from - 1;
  }
  return out + normalizeNewlines(raw.slice(from));
}
