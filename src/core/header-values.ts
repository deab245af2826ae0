/**
 * What an HTTP field value may contain, as node:http and undici check it (RFC 9110 §5.5: visible
 * ASCII, SP, HTAB, and obs-text bytes 0x80-0xFF): no CR, LF, NUL or other control characters
 * (header injection, D26) and no character above U+00FF (a JavaScript string is written as
 * Latin-1; anything else is refused by both). One definition, used wherever a policy sets a header
 * and where the gateway writes or sends headers, so every layer agrees on what is refused.
 * @module
 */
import { GatewayError } from './errors.ts';

export const INVALID_FIELD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** The message names the header, never the value: it may hold a secret or the client's data. */
export function invalidHeaderValue(name: string): GatewayError {
  return new GatewayError(
    'GW_ERR_INVALID_HEADER_VALUE',
    `The value computed for header "${name}" is not a valid HTTP header value (control characters such as CR or LF, or characters outside Latin-1).`,
    { param: name },
  );
}
