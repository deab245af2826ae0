/**
 * A pass-through tap on an OpenAI SSE stream. It forwards complete events as soon as they are
 * complete (never waiting for more than the rest of the current event), reads the final `usage`
 * chunk, and — when the gateway itself asked for that chunk — removes it so the client sees exactly
 * the stream it asked for. It never re-serialises events it keeps: their bytes go out unchanged.
 * @module
 */
import { normaliseUsage, type TokenCounts } from '../core/usage.ts';
import { objectAfterColon } from '../providers/openai/usage-json.ts';

export interface SseUsageTapOptions {
  /** Drop the `choices: []` + `usage` chunk (the gateway injected `stream_options.include_usage`). */
  readonly stripUsageChunk: boolean;
  /** An event larger than this is not parsed: the tap gives up and passes bytes through untouched. */
  readonly maxEventBytes?: number;
  /** Bytes of events kept to count tokens locally when the backend sends no usage. */
  readonly keepForEstimateBytes?: number;
}

const LF2 = Buffer.from('\n\n');
const CRLF2 = Buffer.from('\r\n\r\n');
const USAGE_KEY = Buffer.from('"usage"');
const DONE = Buffer.from('data: [DONE]');
const MODEL_RE = /"model"\s*:\s*"([^"\\]{1,200})"/;

export class SseUsageTap {
  tokens: TokenCounts | undefined;
  model: string | undefined;
  sawDone = false;
  /** True once the tap stopped parsing (oversized event); usage may then be missing. */
  gaveUp = false;
  readonly #strip: boolean;
  readonly #maxEventBytes: number;
  readonly #keepLimit: number;
  #pending: Buffer | null = null;
  #doneTail: Buffer | null = null;
  #kept: Buffer[] = [];
  #keptBytes = 0;

  constructor(opts: SseUsageTapOptions) {
    this.#strip = opts.stripUsageChunk;
    this.#maxEventBytes = opts.maxEventBytes ?? 1024 * 1024;
    this.#keepLimit = opts.keepForEstimateBytes ?? 4 * 1024 * 1024;
  }

  /** Feeds one chunk from the backend; returns the bytes to send to the client now (maybe none). */
  push(chunk: Buffer): Buffer | undefined {
    if (this.gaveUp) {
      this.#watchDone(chunk);
      return chunk;
    }
    const data = this.#pending === null ? chunk : Buffer.concat([this.#pending, chunk]);
    const end = lastBoundaryEnd(data);
    if (end === 0) {
      if (data.length > this.#maxEventBytes) {
        this.gaveUp = true;
        this.#pending = null;
        this.#watchDone(data);
        return data;
      }
      this.#pending = data;
      return undefined;
    }
    this.#pending = end < data.length ? data.subarray(end) : null;
    return this.#complete(data.subarray(0, end));
  }

  /** Pass-through mode still notices `[DONE]`, even split across chunks (a short tail is kept). */
  #watchDone(chunk: Buffer): void {
    if (this.sawDone) return;
    const tail = this.#doneTail;
    const probe = tail === null ? chunk : Buffer.concat([tail, chunk.subarray(0, DONE.length)]);
    if (probe.includes(DONE) || chunk.includes(DONE)) this.sawDone = true;
    this.#doneTail = Buffer.from(chunk.subarray(Math.max(0, chunk.length - DONE.length + 1)));
  }

  /** At the end of the stream: whatever incomplete event is left goes out as it is. */
  flush(): Buffer | undefined {
    const rest = this.#pending;
    this.#pending = null;
    if (rest !== null && !this.gaveUp) return this.#complete(rest);
    return rest ?? undefined;
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
    if (this.model === undefined) this.model = MODEL_RE.exec(region.subarray(0, 2048).toString('latin1'))?.[1];
    if (!this.sawDone && region.includes(DONE)) this.sawDone = true;
    if (this.#keptBytes < this.#keepLimit) {
      this.#kept.push(region);
      this.#keptBytes += region.length;
    }
    if (!hasUsageObject(region)) return region;
    // Rare path (once per stream): find the event(s) carrying a usage object.
    const parts: Buffer[] = [];
    let changed = false;
    for (const event of splitEvents(region)) {
      const payload = dataOf(event);
      const obj = payload === undefined ? undefined : safeParse(payload);
      const response = obj?.['response'] as Record<string, unknown> | undefined;
      const tokens = normaliseUsage(obj?.['usage']) ?? normaliseUsage(response?.['usage']);
      if (tokens !== undefined) {
        this.tokens = tokens;
        if (typeof obj?.['model'] === 'string') this.model = obj['model'];
        const choices = obj?.['choices'];
        if (this.#strip && Array.isArray(choices) && choices.length === 0) {
          changed = true;
          continue;
        }
      }
      parts.push(event);
    }
    if (!changed) return region;
    return parts.length === 0 ? undefined : Buffer.concat(parts);
  }
}

/** Index just past the last blank line (`\n\n` or `\r\n\r\n`), or 0 when there is none. */
function lastBoundaryEnd(buf: Buffer): number {
  const a = buf.lastIndexOf(LF2);
  const b = buf.lastIndexOf(CRLF2);
  return Math.max(a < 0 ? 0 : a + 2, b < 0 ? 0 : b + 4);
}

function hasUsageObject(region: Buffer): boolean {
  let at = region.indexOf(USAGE_KEY);
  while (at >= 0) {
    if (objectAfterColon(region, at + USAGE_KEY.length) !== undefined) return true;
    at = region.indexOf(USAGE_KEY, at + USAGE_KEY.length);
  }
  return false;
}

/** Splits a region of complete events into events, each keeping its own terminating blank line. */
function* splitEvents(region: Buffer): Generator<Buffer> {
  let start = 0;
  while (start < region.length) {
    const a = region.indexOf(LF2, start);
    const b = region.indexOf(CRLF2, start);
    let end: number;
    if (a < 0 && b < 0) end = region.length;
    else if (b < 0 || (a >= 0 && a < b)) end = a + 2;
    else end = b + 4;
    yield region.subarray(start, end);
    start = end;
  }
}

/** The joined `data:` lines of one event (SSE: multiple data lines are joined with \n). */
function dataOf(event: Buffer): string | undefined {
  let data: string | undefined;
  for (const line of event.toString('utf8').split(/\r?\n/)) {
    if (!line.startsWith('data:')) continue;
    const value = line.slice(line[5] === ' ' ? 6 : 5);
    data = data === undefined ? value : `${data}\n${value}`;
  }
  return data;
}

function* eventPayloads(region: Buffer): Generator<string> {
  for (const event of splitEvents(region)) {
    const d = dataOf(event);
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
