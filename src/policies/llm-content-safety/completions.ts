/**
 * The answer side of `llm-content-safety`: a JSON answer is checked whole (in windows of
 * `window-size`, default 10,000 characters) before it is sent; a streamed answer goes through the
 * stream guard (window-size default 1,000 characters), which holds events back until their window
 * is checked and ends a flagged stream with a terminal error event. Error answers (status ≥ 400)
 * are the backend's or the gateway's own and are not checked.
 * @module
 */
import type { Readable } from 'node:stream';
import type { RequestContext } from '../../core/context.ts';
import { GatewayError } from '../../core/errors.ts';
import { ContentSafetyUnavailable, type Engine, type Finding, type Rules } from '../../content-safety/engine.ts';
import { MAX_ANALYZE_CHARS } from '../../content-safety/azure.ts';
import { guardStream } from '../../content-safety/stream-guard.ts';
import { completionText } from '../../content-safety/text.ts';

export interface CompletionCheck {
  readonly engine: Engine;
  readonly rules: Rules;
  readonly windowSize: number | undefined;
  readonly overlap: number;
  readonly blocked: (f: Finding) => GatewayError;
  /** Throws under fail-mode closed; returns under open (the answer goes out unchecked). */
  readonly unavailable: (err: ContentSafetyUnavailable) => true;
}

/** Stream window default (characters) and the held-back bytes bound. */
export const STREAM_WINDOW_CHARS = 1000;
export const MAX_HELD_BYTES = 64 * 1024;

export async function checkCompletion(ctx: RequestContext, check: CompletionCheck): Promise<void> {
  const res = ctx.response;
  if (res === null || res.status >= 400) return;
  const body = res.body;
  if (body.kind === 'stream' && body.sse) {
    res.body = { kind: 'stream', sse: true, stream: guarded(ctx, body.stream, check) };
    return;
  }
  // A JSON answer that was not held (buffer-response="false", or not metered) is not read here:
  // only held answers and streams are checked (docs/content-safety.md).
  if (body.kind !== 'buffer') return;
  let json: unknown;
  try {
    json = JSON.parse(body.data.toString('utf8'));
  } catch {
    return;
  }
  const text = completionText(json);
  if (text === '') return;
  let finding: Finding | null = null;
  try {
    finding = await check.engine.checkOutput(text, check.rules, ctx.signal, check.windowSize ?? MAX_ANALYZE_CHARS, Math.min(check.overlap, (check.windowSize ?? MAX_ANALYZE_CHARS) - 1));
  } catch (err) {
    if (!(err instanceof ContentSafetyUnavailable)) throw err;
    check.unavailable(err);
  }
  if (finding !== null) throw check.blocked(finding);
}

function guarded(ctx: RequestContext, source: Readable, check: CompletionCheck): Readable {
  const windowChars = check.windowSize ?? STREAM_WINDOW_CHARS;
  const overlapChars = Math.min(check.overlap, windowChars - 1);
  // A stream cut by content safety is no failure of the backend: its breaker hears a success.
  const settle = (): void => {
    if (ctx.attempt !== null && !ctx.attempt.settled) ctx.attempt.succeeded();
  };
  const unavailable = (err: ContentSafetyUnavailable): 'pass-through' => {
    try {
      check.unavailable(err);
    } catch (closed) {
      settle();
      throw closed;
    }
    return 'pass-through';
  };
  return guardStream(source, {
    uncheckable: () => unavailable(new ContentSafetyUnavailable('an event of the streamed answer is larger than 1 MiB and cannot be checked')),
    windowChars,
    overlapChars,
    maxHeldBytes: MAX_HELD_BYTES,
    async check(text) {
      let finding: Finding | null;
      try {
        finding = await check.engine.checkOutput(text, check.rules, ctx.signal, MAX_ANALYZE_CHARS, 0);
      } catch (err) {
        if (!(err instanceof ContentSafetyUnavailable)) throw err;
        return unavailable(err);
      }
      if (finding === null) return 'ok';
      settle();
      throw check.blocked(finding);
    },
  });
}
