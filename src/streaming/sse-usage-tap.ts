/**
 * A pass-through tap on an OpenAI SSE stream. It forwards complete events as soon as they are
 * complete (never waiting for more than the rest of the current event), reads the final `usage`
 * chunk, and — when the gateway itself asked for that chunk — removes it so the client sees exactly
 * the stream it asked for. It never re-serialises events it keeps: their bytes go out unchanged.
 * @module
 */
import { normaliseUsage, type TokenCounts } from '../core/usage.ts';
import { findModel, objectAfterColon } from '../providers/openai/usage-json.ts';
import { CRLF2, LF2, eventData, eventEnd, lastEventEnd } from './sse-events.ts';

export interface SseUsageTapOptions {
  /** Drop the `choices: []` + `usage` chunk (the gateway injected `stream_options.include_usage`). */
  readonly stripUsageChunk: boolean;
  /** An event larger than this is not held or parsed: its bytes pass through as they come. */
  readonly maxEventBytes?: number;
  /** Bytes of events kept to count tokens locally when the backend sends no usage. */
  readonly keepForEstimateBytes?: number;
}

const USAGE_KEY = '"usage"';
const MODEL_WINDOW = 2048;
const DONE = 'data: [DONE]';

export class SseUsageTap {
  tokens: TokenCounts | undefined;
  model: string | undefined;
  sawDone = false;
  /** Events larger than maxEventBytes, passed through unparsed (usage in one of them is missed). */
  oversizedEvents = 0;
  readonly #strip: boolean;
  readonly #maxEventBytes: number;
  readonly #keepLimit: number;
  #pending: Buffer | null = null;
  /** Inside an oversized event: its bytes go straight through until the blank line that ends it. */
  #skipping = false;
  /** The last bytes of an oversized event seen so far, to find a blank line split across chunks. */
  #skipTail: Buffer = EMPTY;
  #kept: Buffer[] = [];
  #keptBytes = 0;

  constructor(opts: SseUsageTapOptions) {
    this.#strip = opts.stripUsageChunk;
    this.#maxEventBytes = opts.maxEventBytes ?? 1024 * 1024;
    this.#keepLimit = opts.keepForEstimateBytes ?? 4 * 1024 * 1024;
  }

  /** Feeds one chunk from the backend; returns the bytes to send to the client now (maybe none). */
  push(chunk: Buffer): Buffer | undefined {
    if (this.#skipping) return this.#skip(chunk);
    const data = this.#pending === null ? chunk : Buffer.concat([this.#pending, chunk]);
    const end = lastEventEnd(data);
    const complete = end === 0 ? undefined : this.#complete(data.subarray(0, end));
    const rest = end < data.length ? data.subarray(end) : null;
    this.#pending = null;
    if (rest === null) return complete;
    if (rest.length <= this.#maxEventBytes) {
      this.#pending = rest;
      return complete;
    }
    // An event too large to hold: pass it on as it comes (memory stays bounded) and parse again
    // after it, so a later usage chunk is still read and, when the gateway asked for it, hidden.
    this.oversizedEvents++;
    this.#skipping = true;
    this.#skipTail = Buffer.from(rest.subarray(Math.max(0, rest.length - 3)));
    return join(complete, rest);
  }

  /** Passes bytes of an oversized event through; parsing resumes after its terminating blank line. */
  #skip(chunk: Buffer): Buffer | undefined {
    const end = firstBoundaryEnd(this.#skipTail, chunk);
    if (end < 0) {
      const tail = Buffer.concat([this.#skipTail, chunk.subarray(Math.max(0, chunk.length - 3))]);
      this.#skipTail = Buffer.from(tail.subarray(Math.max(0, tail.length - 3)));
      return chunk;
    }
    this.#skipping = false;
    this.#skipTail = EMPTY;
    const after = end < chunk.length ? this.push(chunk.subarray(end)) : undefined;
    return join(chunk.subarray(0, end), after);
  }

  /** At the end of the stream: whatever incomplete event is left goes out as it is. */
  flush(): Buffer | undefined {
    const rest = this.#pending;
    this.#pending = null;
    if (rest !== null) return this.#complete(rest);
    return undefined;
  }

  /** The text of every content delta seen (bounded), for a local token count when usage never came. */
  collectedText(): string {
    let text = '';
    for (const buf of this.#kept) {
      for (const payload of eventPayloads(buf)) {
        const obj = safeParse(payload);
        const choices = obj?.['choices'];
        if (!Array.isArray(choices)) continue;
        for (const c of choices as Array<Record<string, unknown>>) {
          const delta = c['delta'] as Record<string, unknown> | undefined;
          const piece = delta?.['content'] ?? c['text'];
          if (typeof piece === 'string') text += piece;
        }
      }
    }
    return text;
  }

  #complete(region: Buffer): Buffer | undefined {
    // One latin1 view of the region for every search below (byte offsets are string offsets):
    // String#indexOf runs inside V8, while Buffer#indexOf with a Buffer needle crosses into C++
    // per call, and with include_usage every event has a `"usage":null` to step over (a burst of
    // 21 events in one region took 84 µs in front of the first byte, now ~10).
    const text = region.toString('latin1');
    // The model is in every chunk; the first 2 KiB of the first region that has one tell it.
    if (this.model === undefined) this.model = findModel(region, 0, Math.min(region.length, MODEL_WINDOW));
    if (!this.sawDone && text.includes(DONE)) this.sawDone = true;
    if (this.#keptBytes < this.#keepLimit) {
      this.#kept.push(region);
      this.#keptBytes += region.length;
    }
    // Only the event(s) holding a usage object are parsed (once per stream in practice).
    let kept: Buffer[] | undefined;
    let copiedTo = 0;
    let at = text.indexOf(USAGE_KEY);
    while (at >= 0) {
      if (objectAfterColon(region, at + USAGE_KEY.length) === undefined) {
        at = text.indexOf(USAGE_KEY, at + USAGE_KEY.length);
        continue;
      }
      const start = lastEventEnd(region.subarray(0, at));
      const found = eventEnd(region, at);
      const end = found < 0 ? region.length : found;
      if (this.#readUsage(region.subarray(start, end))) {
        (kept ??= []).push(region.subarray(copiedTo, start));
        copiedTo = end;
      }
      at = text.indexOf(USAGE_KEY, end);
    }
    if (kept === undefined) return region;
    kept.push(region.subarray(copiedTo));
    const out = Buffer.concat(kept);
    return out.length === 0 ? undefined : out;
  }

  /** Takes the usage of one event; true when the event is to be removed (the gateway's own usage chunk). */
  #readUsage(event: Buffer): boolean {
    const payload = eventData(event);
    const obj = payload === undefined ? undefined : safeParse(payload);
    const response = obj?.['response'] as Record<string, unknown> | undefined;
    const tokens = normaliseUsage(obj?.['usage']) ?? normaliseUsage(response?.['usage']);
    if (tokens === undefined) return false;
    this.tokens = tokens;
    if (typeof obj?.['model'] === 'string') this.model = obj['model'];
    const choices = obj?.['choices'];
    return this.#strip && Array.isArray(choices) && choices.length === 0;
  }
}

const EMPTY = Buffer.alloc(0);

function join(a: Buffer | undefined, b: Buffer | undefined): Buffer | undefined {
  if (a === undefined || a.length === 0) return b;
  if (b === undefined || b.length === 0) return a;
  return Buffer.concat([a, b]);
}

/**
 * Index in `chunk` just past the first blank line, counting one that starts in `tail` (the last
 * up to 3 bytes before `chunk`); -1 when there is none.
 */
function firstBoundaryEnd(tail: Buffer, chunk: Buffer): number {
  if (tail.length > 0) {
    const seam = Buffer.concat([tail, chunk.subarray(0, 3)]);
    for (const sep of [LF2, CRLF2]) {
      const at = seam.indexOf(sep);
      if (at >= 0 && at + sep.length > tail.length) return at + sep.length - tail.length;
    }
  }
  return eventEnd(chunk);
}

/** Splits a region of complete events into events, each keeping its own terminating blank line. */
function* splitEvents(region: Buffer): Generator<Buffer> {
  let start = 0;
  while (start < region.length) {
    const found = eventEnd(region, start);
    const end = found < 0 ? region.length : found;
    yield region.subarray(start, end);
    start = end;
  }
}

function* eventPayloads(region: Buffer): Generator<string> {
  for (const event of splitEvents(region)) {
    const d = eventData(event);
    if (d !== undefined && d !== '[DONE]') yield d;
  }
}

function safeParse(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
