/**
 * SSE framing shared by the readers of a streamed answer (the usage tap, the content-safety
 * hold-back): where an event ends, and what its `data:` lines carry.
 * @module
 */

export const LF2 = Buffer.from('\n\n');
export const CRLF2 = Buffer.from('\r\n\r\n');

/** Index just past the first blank line (`\n\n` or `\r\n\r\n`) at or after `from`, or -1. */
export function eventEnd(data: Buffer, from = 0): number {
  const a = data.indexOf(LF2, from);
  const b = data.indexOf(CRLF2, from);
  if (a < 0 && b < 0) return -1;
  return b < 0 || (a >= 0 && a < b) ? a + 2 : b + 4;
}

/** The joined `data:` lines of one event (SSE joins several with \n); undefined when it has none. */
export function eventData(event: Buffer): string | undefined {
  let data: string | undefined;
  for (const line of event.toString('utf8').split(/\r?\n/)) {
    if (!line.startsWith('data:')) continue;
    const value = line.slice(line[5] === ' ' ? 6 : 5);
    data = data === undefined ? value : `${data}\n${value}`;
  }
  return data;
}
