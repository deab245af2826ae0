/**
 * One request to a backend through undici's `dispatch`, with a handler of our own instead of
 * `request()`. Why: most answers of a metered API are small JSON bodies the gateway holds anyway
 * (usage must be known before outbound policies run). `request()` wraps every answer in a
 * Readable, an AsyncResource and an abort-signal listener and hands the bytes over through
 * stream events; here held bodies are collected straight from the parser's chunks, and only
 * answers that are passed through (SSE, non-JSON, `buffer-response="false"`, bodies past the
 * limit) become a stream. docs/performance.md has the measurement.
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { errors, type Dispatcher } from 'undici';

/** The status line and headers, given to `decide` the moment they arrive. */
export interface Head {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
}

/** What to do with a body: hold up to `limit` bytes (a stream past that), or stream it. */
export type BodyPlan = { readonly hold: number } | 'stream';

export type Answer =
  | (Head & { readonly kind: 'held'; readonly data: Buffer })
  | (Head & { readonly kind: 'stream'; readonly body: Readable });

export interface ExchangeHooks {
  /** Called once, when the headers arrive (1xx answers are skipped). */
  decide(head: Head): BodyPlan;
  /** Called once when the exchange is over: body complete, failed, or the stream destroyed. */
  settled(): void;
}

/** Thrown (rejected) for a failure after the headers: the body of a held answer did not complete. */
export class BodyPhaseError extends Error {
  override readonly cause: unknown;
  constructor(cause: unknown) {
    super('backend body failed', { cause });
    this.cause = cause;
  }
}

const HIGH_WATER_MARK = 64 * 1024;

/**
 * Where the owner of `signal` calls the exchange's cancel when it aborts, instead of an 'abort'
 * listener on the signal (the request context: RequestContext.onAbort). It must call it after
 * aborting the signal, so that the signal's reason is set.
 */
export interface AbortSlot {
  onAbort: (() => void) | null;
}

/**
 * Sends the request; resolves at the headers for a streamed answer, at the end for a held one.
 * Rejects with the raw undici error before the headers, a `BodyPhaseError` after them. An abort
 * of `signal` aborts the exchange (and a streamed body) with the signal's reason. With a `slot`,
 * the signal's owner reports its abort there (no listener is added to the signal).
 */
export function exchange(dispatcher: Dispatcher, opts: Dispatcher.DispatchOptions, signal: AbortSignal, hooks: ExchangeHooks, slot?: AbortSlot): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const handler = new ExchangeHandler(signal, hooks, resolve, reject, slot ?? null);
    if (signal.aborted) return void handler.fail(signal.reason);
    if (slot !== undefined) slot.onAbort = handler.onAbort;
    else signal.addEventListener('abort', handler.onAbort, { once: true });
    try {
      dispatcher.dispatch(opts, handler);
    } catch (err) {
      handler.fail(err);
    }
  });
}

class ExchangeHandler implements Dispatcher.DispatchHandler {
  readonly #signal: AbortSignal;
  readonly #hooks: ExchangeHooks;
  readonly #resolve: (a: Answer) => void;
  readonly #reject: (err: unknown) => void;
  #controller: Dispatcher.DispatchController | null = null;
  #head: Head | null = null;
  /** Held chunks, while holding. */
  #chunks: Buffer[] | null = null;
  #size = 0;
  #limit = 0;
  #body: UpstreamBody | null = null;
  #done = false;

  readonly #slot: AbortSlot | null;

  constructor(signal: AbortSignal, hooks: ExchangeHooks, resolve: (a: Answer) => void, reject: (err: unknown) => void, slot: AbortSlot | null) {
    this.#slot = slot;
    this.#signal = signal;
    this.#hooks = hooks;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /**
   * The abort listener. A function, not the handler object itself (`handleEvent`): with an object
   * listener on the request's AbortSignal, V8's young-generation collector kept ~30 % of each
   * request's objects alive (promoted to old space, freed only by mark-compact); with a function,
   * 2-3 %. On a bare undici proxy that was +47 % CPU per request; in the gateway, ~6 KB promoted
   * per request and a mark-compact every ~2 s under load (docs/performance.md).
   */
  readonly onAbort = (): void => {
    const reason: unknown = this.#signal.reason ?? new errors.RequestAbortedError();
    if (this.#controller !== null) this.#controller.abort(reason as Error);
    else this.fail(reason);
  };

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.#done) return void controller.abort(new errors.RequestAbortedError());
    this.#controller = controller;
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200 || this.#done) return;
    const head: Head = { statusCode, headers };
    this.#head = head;
    const plan = this.#hooks.decide(head);
    if (plan === 'stream') {
      this.#stream(controller, head);
    } else {
      this.#chunks = [];
      this.#limit = plan.hold;
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#body !== null) {
      if (!this.#body.push(chunk)) controller.pause();
      return;
    }
    const chunks = this.#chunks;
    if (chunks === null) return;
    chunks.push(chunk);
    this.#size += chunk.length;
    if (this.#size <= this.#limit) return;
    // Too large to hold: what was read so far, then the rest, as a stream.
    this.#chunks = null;
    const body = this.#stream(controller, this.#head as Head);
    for (const c of chunks) body.push(c);
  }

  onResponseEnd(): void {
    if (this.#body !== null) {
      this.#body.complete();
      this.#finish();
      return;
    }
    const chunks = this.#chunks;
    const head = this.#head;
    this.#finish();
    if (chunks === null || head === null) return;
    this.#chunks = null;
    const data = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, this.#size);
    this.#resolve({ statusCode: head.statusCode, headers: head.headers, kind: 'held', data });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.#body !== null) {
      this.#body.fail(err);
      this.#finish();
      return;
    }
    this.fail(this.#head === null ? err : new BodyPhaseError(err));
  }

  fail(err: unknown): void {
    if (this.#done) return;
    this.#chunks = null;
    this.#finish();
    this.#reject(err);
  }

  #stream(controller: Dispatcher.DispatchController, head: Head): UpstreamBody {
    const body = new UpstreamBody(controller, () => this.#finish());
    this.#body = body;
    this.#resolve({ statusCode: head.statusCode, headers: head.headers, kind: 'stream', body });
    return body;
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    const slot = this.#slot;
    if (slot === null) this.#signal.removeEventListener('abort', this.onAbort);
    else if (slot.onAbort === this.onAbort) slot.onAbort = null;
    this.#hooks.settled();
  }
}

/**
 * A streamed backend body with backpressure: a full buffer pauses the socket, a read resumes it.
 * Destroying it before its end aborts the exchange (the connection is not reused).
 */
class UpstreamBody extends Readable {
  readonly #controller: Dispatcher.DispatchController;
  readonly #settled: () => void;
  #complete = false;

  constructor(controller: Dispatcher.DispatchController, settled: () => void) {
    super({ highWaterMark: HIGH_WATER_MARK });
    this.#controller = controller;
    this.#settled = settled;
  }

  complete(): void {
    this.#complete = true;
    this.push(null);
  }

  /** The exchange failed (undici has ended it already): error the stream, abort nothing. */
  fail(err: Error): void {
    this.#complete = true;
    this.destroy(err);
  }

  override _read(): void {
    this.#controller.resume();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#complete) this.#controller.abort(err ?? new errors.RequestAbortedError());
    this.#settled();
    callback(err);
  }
}
