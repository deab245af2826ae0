/**
 * Request-side translation for the OpenAI surface: one JSON parse used for routing, auth-scoped
 * decisions and metering (never a second, differently-behaving parse), and the
 * `stream_options.include_usage` injection that lets the gateway count streamed tokens exactly.
 * @module
 */
import { GatewayError } from '../../core/errors.ts';

/**
 * Deepest nesting of objects and arrays accepted in a request body. JSON.parse itself copes with
 * any depth, but everything after it that walks the value recursively (JSON.stringify when
 * `stream_options` is rewritten, policy expressions, token counting) overflows the stack at a few
 * thousand levels: a 500 for what is a bad request. No OpenAI request needs more than a few dozen
 * (tool JSON schemas included).
 */
export const MAX_JSON_DEPTH = 256;

/** Parses a JSON request body; anything but a JSON object is a 400 in the OpenAI format. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (jsonDepthExceeds(body, MAX_JSON_DEPTH)) {
    throw new GatewayError('GW_ERR_INVALID_JSON', `The JSON body of your request is nested more than ${MAX_JSON_DEPTH} levels deep.`);
  }
  let value: unknown;
  try {
    // A UTF-8 BOM is legal for RFC 8259 parsers to ignore; strip it rather than reject the request.
    const text = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? body.toString('utf8', 3) : body.toString('utf8');
    value = JSON.parse(text);
  } catch (err) {
    throw new GatewayError('GW_ERR_INVALID_JSON', `We could not parse the JSON body of your request: ${(err as Error).message}`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new GatewayError('GW_ERR_INVALID_JSON', 'The request body must be a JSON object.');
  }
  return value as Record<string, unknown>;
}

const INCLUDE_USAGE = Buffer.from(',"stream_options":{"include_usage":true}');

/**
 * When a streaming request did not ask for the final usage chunk, ask for it. When the body has no
 * `stream_options` at all the field is spliced in before the closing brace, so the client's bytes
 * are otherwise forwarded untouched; only an existing `stream_options` object forces a re-serialise.
 * Returns undefined when nothing needed to change.
 */
export function withStreamUsage(body: Buffer, json: Record<string, unknown>): Buffer | undefined {
  const opts = json['stream_options'];
  if (typeof opts === 'object' && opts !== null && !Array.isArray(opts)) {
    if ((opts as Record<string, unknown>)['include_usage'] === true) return undefined;
    json['stream_options'] = { ...(opts as Record<string, unknown>), include_usage: true };
    return Buffer.from(JSON.stringify(json));
  }
  if (opts === null) {
    json['stream_options'] = { include_usage: true };
    return Buffer.from(JSON.stringify(json));
  }
  if (opts !== undefined) return undefined; // malformed; let the backend reject it
  const close = body.lastIndexOf(0x7d /* } */);
  if (close < 0) return undefined;
  json['stream_options'] = { include_usage: true };
  return Buffer.concat([body.subarray(0, close), INCLUDE_USAGE, body.subarray(close)]);
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;

/**
 * True when objects/arrays nest deeper than `max` (ignoring brackets inside strings). Linear and
 * allocation-free. A body with at most `max` opening brackets cannot be too deep, and that native
 * count settles ordinary requests; otherwise strings (most of a large body) are skipped with native
 * `indexOf` rather than byte by byte.
 */
export function jsonDepthExceeds(body: Buffer, max: number): boolean {
  let opens = 0;
  for (const ch of [OPEN_BRACE, OPEN_BRACKET]) {
    for (let at = body.indexOf(ch); at >= 0 && opens <= max; at = body.indexOf(ch, at + 1)) opens++;
  }
  if (opens <= max) return false;
  let depth = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as number;
    if (c === QUOTE) {
      let end = body.indexOf(QUOTE, i + 1);
      while (end > 0 && escaped(body, end)) end = body.indexOf(QUOTE, end + 1);
      if (end < 0) return false; // an unterminated string: JSON.parse reports it
      i = end;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

const QUOTE = 0x22;

/** A quote preceded by an odd number of backslashes is part of the string. */
function escaped(body: Buffer, at: number): boolean {
  let n = 0;
  while (at - n - 1 >= 0 && body[at - n - 1] === 0x5c) n++;
  return n % 2 === 1;
}
