/**
 * Whether the body a client sent may hold members that the gateway's parse does not show. JSON.parse
 * keeps the last of a repeated key: in `{"role":"user","content":"<attack>","content":"hi"}` the
 * gateway's policies read "hi", while a backend whose parser keeps the first key sees the attack
 * (content safety checked the wrong text, the semantic cache files the attack's answer under "hi"),
 * and a repeated key's value reaches the provider unredacted whichever it keeps. When this answers
 * true, those policies forward the body as the gateway parsed it (src/policies/shared/parsed-body.ts);
 * otherwise the client's bytes go on as they came, since re-serialising costs every request.
 *
 * The count needs no parse. Outside strings, `{` or `,`, white space, `"key"`, white space and `:`
 * can only be a member named `key`: inside a string every `"` follows a backslash, and a closing
 * quote cannot be followed by a bare word. Every member written literally has that shape. A key
 * written with escapes (`"cont\u0065nt"`) would not be counted, so a body with `\u` answers true.
 * The parsed side counts the members of the objects the prompt checks read (`forEachPromptObject`
 * in src/content-safety/text.ts): the body, its messages and their content parts, a Responses
 * request's input items and their parts. One of these keys anywhere else (a tool schema's "content" property) makes the counts
 * differ too, and then the answer is the safe one.
 * @module
 */
import type { Buffer } from 'node:buffer';
import { forEachPromptObject } from '../../content-safety/text.ts';

/** The keys the prompt checks read (text.ts), and `messages` itself. */
const KEYS = ['messages', 'role', 'content', 'text', 'prompt', 'input', 'instructions'] as const;
/**
 * A member named one of KEYS, with the `{` or `,` before it. Read over the body decoded as latin1
 * (one character per byte: JSON's structure is ASCII, and a UTF-8 sequence's bytes are all ≥ 0x80,
 * so they never look like structure). The whole test costs 0.7–1.05 µs for a 600–860-byte chat body
 * (the scan 0.5–0.7 of it), where a `Buffer.indexOf` per key cost 2.3–3.4 µs (a call into C++ each).
 */
const MEMBER = new RegExp(`[{,][ \\t\\n\\r]*"(?:${KEYS.join('|')})"[ \\t\\n\\r]*:`, 'g');

/** True when `raw` may hold a member of the checked objects that `json` (its parse) does not show. */
export function hidesMembers(raw: Buffer, json: Record<string, unknown>): boolean {
  const text = raw.toString('latin1');
  if (text.includes('\\u')) return true;
  let parsed = 0;
  forEachPromptObject(json, (o) => {
    parsed += count(o);
  });
  let written = 0;
  MEMBER.lastIndex = 0;
  while (MEMBER.test(text)) if (++written > parsed) return true;
  // `written` ≥ `parsed` always (each parsed member is written at least once): equal means none repeated.
  return written !== parsed;
}

/** Members of `o` named one of KEYS. */
function count(o: Record<string, unknown>): number {
  let n = 0;
  for (const k of KEYS) if (Object.hasOwn(o, k)) n++;
  return n;
}
