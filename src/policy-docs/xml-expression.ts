/**
 * Finds where a policy expression (`@(...)` or `@{...}`) ends inside APIM's XML. APIM documents
 * write expressions raw — `"`, `<`, `>` and `&&` unescaped inside attribute values and element
 * text — so the end cannot be found by XML rules. Instead the C# is scanned: `()` (for `@(`) or
 * `{}` (for `@{`) are counted, skipping string literals (regular, verbatim, interpolated), char
 * literals and comments, whose contents may hold any delimiter. Entities are decoded on the fly,
 * so `&quot;` opens a string exactly like a raw `"` does.
 * @module
 */
import { entityAt } from './xml-source.ts';

export type ScanResult =
  | { readonly ok: true; readonly end: number }
  | {
      readonly ok: false;
      /** What is left open when the scan gives up. */
      readonly open: 'expression' | 'string' | 'char' | 'comment';
      /** Offset where the unclosed construct starts. */
      readonly at: number;
      /** The delimiter the expression still lacks (for `open === 'expression'`). */
      readonly missing: string;
    };

type Frame =
  | { readonly kind: 'code'; readonly open: string; readonly close: string; depth: number; readonly start: number }
  | { readonly kind: 'interp'; readonly verbatim: boolean; readonly start: number };

/**
 * Scans the expression whose `@` is at `start` (followed by `(` or `{`). Returns the offset just
 * past its closing delimiter, or where and why it never closes. Runs in one pass with an explicit
 * stack, so hostile nesting cannot overflow the call stack.
 */
export function scanExpression(text: string, start: number): ScanResult {
  const n = text.length;
  // One logical character at i: a decoded entity or a single code unit.
  let ch = '';
  let len = 1;
  const read = (i: number): void => {
    const c = text[i] ?? '';
    if (c === '&') {
      const e = entityAt(text, i);
      if (e.kind === 'ok') {
        ch = e.char;
        len = e.length;
        return;
      }
    }
    ch = c;
    len = 1;
  };
  const peek = (i: number): string => {
    read(i);
    return ch;
  };

  const open = text[start + 1] === '{' ? '{' : '(';
  const close = open === '{' ? '}' : ')';
  const stack: Frame[] = [{ kind: 'code', open, close, depth: 1, start }];
  let i = start + 2;

  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top === undefined) break;
    if (i >= n) {
      if (top.kind === 'interp') return { ok: false, open: 'string', at: top.start, missing: '"' };
      return { ok: false, open: 'expression', at: top.start, missing: top.close };
    }
    read(i);
    const c = ch;
    const l = len;

    if (top.kind === 'interp') {
      if (c === '"') {
        if (top.verbatim && peek(i + l) === '"') {
          i += l + len;
          continue;
        }
        stack.pop();
      } else if (c === '\\' && !top.verbatim) {
        read(i + l);
        if (i + l >= n || ch === '\n' || ch === '\r') return { ok: false, open: 'string', at: top.start, missing: '"' };
        i += l + len;
        continue;
      } else if ((c === '\n' || c === '\r') && !top.verbatim) {
        return { ok: false, open: 'string', at: top.start, missing: '"' };
      } else if (c === '{' || c === '}') {
        if (peek(i + l) === c) {
          i += l + len; // `{{` / `}}`: a literal brace
          continue;
        }
        if (c === '{') stack.push({ kind: 'code', open: '{', close: '}', depth: 1, start: i });
      }
      i += l;
      continue;
    }

    // Code.
    if (c === '"') {
      const end = skipString(i + l, false);
      if (end < 0) return { ok: false, open: 'string', at: i, missing: '"' };
      i = end;
      continue;
    }
    if (c === "'") {
      const end = skipChar(i + l);
      if (end < 0) return { ok: false, open: 'char', at: i, missing: "'" };
      i = end;
      continue;
    }
    if (c === '@' || c === '$') {
      // @"..." verbatim, $"..." interpolated, $@"..." / @$"..." both.
      const c2 = peek(i + l);
      const l2 = len;
      if (c === '@' && c2 === '"') {
        const end = skipString(i + l + l2, true);
        if (end < 0) return { ok: false, open: 'string', at: i, missing: '"' };
        i = end;
        continue;
      }
      if (c === '$' && c2 === '"') {
        stack.push({ kind: 'interp', verbatim: false, start: i });
        i += l + l2;
        continue;
      }
      if ((c === '$' && c2 === '@') || (c === '@' && c2 === '$')) {
        if (peek(i + l + l2) === '"') {
          stack.push({ kind: 'interp', verbatim: true, start: i });
          i += l + l2 + len;
          continue;
        }
      }
      i += l;
      continue;
    }
    if (c === '/') {
      const c2 = peek(i + l);
      if (c2 === '/') {
        while (i < n && text[i] !== '\n' && text[i] !== '\r') i++;
        continue;
      }
      if (c2 === '*') {
        const endComment = text.indexOf('*/', i + 2);
        if (endComment < 0) return { ok: false, open: 'comment', at: i, missing: '*/' };
        i = endComment + 2;
        continue;
      }
    }
    if (c === top.open) top.depth++;
    else if (c === top.close && --top.depth === 0) stack.pop();
    i += l;
  }
  return { ok: true, end: i };

  /** Offset past the closing quote of a string whose body starts at `j`, or -1. */
  function skipString(j: number, verbatim: boolean): number {
    while (j < n) {
      read(j);
      if (ch === '"') {
        const l1 = len;
        if (verbatim && peek(j + l1) === '"') {
          j += l1 + len; // `""` in a verbatim string
          continue;
        }
        return j + l1;
      }
      if (!verbatim) {
        if (ch === '\n' || ch === '\r') return -1;
        if (ch === '\\') {
          j += len;
          const escaped = peek(j);
          if (j >= n || escaped === '\n' || escaped === '\r') return -1;
        }
      }
      j += len;
    }
    return -1;
  }

  /** Offset past the closing quote of a char literal whose body starts at `j`, or -1. */
  function skipChar(j: number): number {
    while (j < n) {
      read(j);
      if (ch === "'") return j + len;
      if (ch === '\n' || ch === '\r') return -1;
      if (ch === '\\') {
        j += len;
        const escaped = peek(j);
        if (j >= n || escaped === '\n' || escaped === '\r') return -1;
      }
      j += len;
    }
    return -1;
  }
}
