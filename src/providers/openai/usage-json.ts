/**
 * Usage from a non-streamed JSON response without parsing the whole body: OpenAI and Azure put
 * `usage` last (Azure sorts keys alphabetically), and embeddings responses can be megabytes of
 * floats, so we parse only the `usage` object found from the end. Falls back to a full parse.
 * @module
 */
import { normaliseUsage, type TokenCounts } from '../../core/usage.ts';

const USAGE_KEY = Buffer.from('"usage"');
const MODEL_RE = /"model"\s*:\s*"([^"\\]{1,200})"/;
/** Bodies up to this size are fully parsed when the fast path finds nothing. */
const FULL_PARSE_LIMIT = 1024 * 1024;

export interface JsonUsage {
  readonly tokens: TokenCounts | undefined;
  readonly model: string | undefined;
}

export function extractJsonUsage(body: Buffer): JsonUsage {
  const model = MODEL_RE.exec(body.subarray(0, 4096).toString('latin1'))?.[1] ?? findModelNearEnd(body);
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

function findModelNearEnd(body: Buffer): string | undefined {
  return MODEL_RE.exec(body.subarray(Math.max(0, body.length - 4096)).toString('latin1'))?.[1];
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
