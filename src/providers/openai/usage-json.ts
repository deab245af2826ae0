/**
 * Usage from a non-streamed JSON response without parsing the whole body: OpenAI and Azure put
 * `usage` last (Azure sorts keys alphabetically), and embeddings responses can be megabytes of
 * floats, so we parse only the `usage` object found from the end. Falls back to a full parse.
 * @module
 */
import { normaliseUsage, type TokenCounts } from '../../core/usage.ts';

const USAGE_KEY = Buffer.from('"usage"');
const MODEL_KEY = Buffer.from('"model"');
/** Where the model is looked for: the first and the last 4 KiB of the body. */
const MODEL_WINDOW = 4096;
const MAX_MODEL_LENGTH = 200;
/** Bodies up to this size are fully parsed when the fast path finds nothing. */
const FULL_PARSE_LIMIT = 1024 * 1024;

export interface JsonUsage {
  readonly tokens: TokenCounts | undefined;
  readonly model: string | undefined;
}

export function extractJsonUsage(body: Buffer): JsonUsage {
  const model = jsonModel(body);
  const at = body.lastIndexOf(USAGE_KEY);
  if (at >= 0) {
    const obj = objectAfterColon(body, at + USAGE_KEY.length);
    if (obj !== undefined) {
      try {
        const tokens = normaliseUsage(JSON.parse(obj));
        if (tokens) return { tokens, model };
      } catch {
        // fall through to the full parse
      }
    }
  }
  if (body.length <= FULL_PARSE_LIMIT) {
    try {
      const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      const inner = parsed['response'] as Record<string, unknown> | undefined;
      return {
        tokens: normaliseUsage(parsed['usage']) ?? normaliseUsage(inner?.['usage']),
        model: typeof parsed['model'] === 'string' ? parsed['model'] : model,
      };
    } catch {
      return { tokens: undefined, model };
    }
  }
  return { tokens: undefined, model };
}

/** The `model` of a JSON answer, found in the bytes of its first or last 4 KiB (no parse). */
export function jsonModel(body: Buffer): string | undefined {
  return findModel(body, 0, Math.min(body.length, MODEL_WINDOW)) ?? findModel(body, Math.max(0, body.length - MODEL_WINDOW), body.length);
}

/**
 * The first `"model": "<1-200 characters, no quote or backslash>"` lying wholly in [from, to), as
 * latin1. Searched in the bytes: decoding the window to a string for a regular expression was a
 * 4 KiB string per answer, the largest single allocation of a proxied request.
 */
export function findModel(body: Buffer, from: number, to: number): string | undefined {
  for (let at = body.indexOf(MODEL_KEY, from); at >= 0 && at + MODEL_KEY.length < to; at = body.indexOf(MODEL_KEY, at + 1)) {
    let i = skipSpace(body, at + MODEL_KEY.length, to);
    if (body[i] !== 0x3a /* : */) continue;
    i = skipSpace(body, i + 1, to);
    if (body[i] !== 0x22 /* " */) continue;
    const start = i + 1;
    let end = start;
    while (end < to && end - start <= MAX_MODEL_LENGTH && body[end] !== 0x22 && body[end] !== 0x5c /* \ */) end++;
    if (end < to && body[end] === 0x22 && end > start && end - start <= MAX_MODEL_LENGTH) return body.toString('latin1', start, end);
  }
  return undefined;
}

/** Skips what `\s` matches in a latin1 string: tab, LF, VT, FF, CR, space, NBSP. */
function skipSpace(body: Buffer, i: number, to: number): number {
  while (i < to) {
    const c = body[i] as number;
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0) i++;
    else break;
  }
  return i;
}

/**
 * The balanced `{...}` after `"usage":`, honouring strings. Returns undefined when the value is not
 * an object (e.g. `"usage": null` in stream chunks) or is unbalanced.
 */
export function objectAfterColon(buf: Buffer, from: number): string | undefined {
  let i = from;
  while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i++;
  if (buf[i] !== 0x3a /* : */) return undefined;
  i++;
  while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i++;
  if (buf[i] !== 0x7b /* { */) return undefined;
  const start = i;
  let depth = 0;
  let inString = false;
  for (; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b) depth++;
    else if (c === 0x7d && --depth === 0) return buf.subarray(start, i + 1).toString('utf8');
  }
  return undefined;
}
