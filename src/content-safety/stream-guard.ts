/**
 * Content safety on a streamed (SSE) completion: events are held back until `windowChars`
 * characters of completion text have come (or `maxHeldBytes` of events, or the stream ends),
 * that window is checked, and only then are its events released to the client, unchanged. A
 * flagged window is never sent: the stream ends with a terminal `event: error` (the error this
 * guard throws, which the respond stage renders), so text after the last clean window never
 * reaches the client and a client sees an error, not a clean end. Each check also sees the last
 * `overlapChars` characters of the previous window, so a word split across two windows is seen whole.
 *
 * Cost: the client's first byte waits for the first window of text plus one check; after that,
 * events arrive in bursts of one window.
 * @module
 */
import { Readable } from 'node:stream';
import { eventData, eventEnd } from '../streaming/sse-events.ts';
import { completionText } from './text.ts';

export interface StreamGuardOptions {
  readonly windowChars: number;
  readonly overlapChars: number;
  /** Events held back at most (bytes), whatever their text: a stream of tool calls is bounded too. */
  readonly maxHeldBytes: number;
  /**
   * Checks a window's text; throws to end the stream (a blocked window, or the service down with
   * fail-closed). Resolves to `'pass-through'` to stop guarding (fail-open: the rest goes unchecked).
   */
  readonly check: (text: string) => Promise<'ok' | 'pass-through'>;
  /** An event too large to check (over 1 MiB): throws to end the stream, or `'pass-through'`. */
  readonly uncheckable: () => 'pass-through';
}

/** An SSE event larger than this cannot be checked as one piece. */
const MAX_EVENT_BYTES = 1024 * 1024;

/** The guarded stream: the same bytes as `source`, released window by window once checked. */
export function guardStream(source: Readable, opts: StreamGuardOptions): Readable {
  async function* guarded(): AsyncGenerator<Buffer> {
    let ended = false;
    let pending: Buffer | null = null;
    let held: Buffer[] = [];
    let heldBytes = 0;
    let text = '';
    let tail = '';
    let passThrough = false;
    const release = async function* (final: boolean): AsyncGenerator<Buffer> {
      if (text.length > 0 || final) {
        const verdict = text.length === 0 ? 'ok' : await opts.check(tail + text);
        if (verdict === 'pass-through') passThrough = true;
        tail = opts.overlapChars === 0 ? '' : (tail + text).slice(-opts.overlapChars);
      }
      text = '';
      if (heldBytes > 0) yield Buffer.concat(held, heldBytes);
      held = [];
      heldBytes = 0;
    };
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        if (passThrough) {
          yield chunk;
          continue;
        }
        let data: Buffer = pending === null ? chunk : Buffer.concat([pending, chunk]);
        pending = null;
        for (;;) {
          const end = eventEnd(data);
          if (end < 0) break;
          const event = data.subarray(0, end);
          data = data.subarray(end);
          held.push(event);
          heldBytes += event.length;
          text += eventText(event);
          if (text.length >= opts.windowChars || heldBytes >= opts.maxHeldBytes) yield* release(false);
          if (passThrough) break;
        }
        if (passThrough) {
          if (data.length > 0) yield Buffer.from(data);
          continue;
        }
        if (data.length > MAX_EVENT_BYTES) {
          passThrough = opts.uncheckable() === 'pass-through';
          // Fail-open: what is held and the oversized event go out unchecked, and so does the rest.
          for (const h of held) yield h;
          held = [];
          heldBytes = 0;
          yield Buffer.from(data);
          continue;
        }
        if (data.length > 0) pending = Buffer.from(data);
      }
      if (!passThrough) {
        if (pending !== null) {
          // A last event without its blank line: checked and released like the others.
          held.push(pending);
          heldBytes += pending.length;
          text += eventText(pending);
          pending = null;
        }
        yield* release(true);
      }
      ended = true;
    } finally {
      // A consumer that stopped early, or a blocked window: the backend's connection is released.
      if (!ended) source.destroy();
    }
  }
  return Readable.from(guarded(), { objectMode: false });
}

/** The completion text one SSE event carries (choices' delta content), '' for anything else. */
function eventText(event: Buffer): string {
  const data = eventData(event);
  if (data === undefined || data === '' || data === '[DONE]') return '';
  try {
    return completionText(JSON.parse(data));
  } catch {
    return '';
  }
}
