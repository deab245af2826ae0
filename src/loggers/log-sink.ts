/**
 * One usage logger (`loggers.<id>`): a bounded queue in front of a writer (file, HTTP, Redis
 * stream, stdout). `push` is synchronous and never throws or waits, so `log-to-eventhub` costs the
 * request one array push; batches are written later, one at a time, with bounded retries. A full
 * queue drops the new message (counted); a writer that keeps failing is reported once per outage
 * through OutageLog. `close` drains what is queued within a deadline (shutdown, reload).
 * @module
 */
import { OutageLog } from '../state/outage-log.ts';
import type { Logger } from '../observability/logger.ts';

/** Writes one batch of JSON texts; rejects to ask for a retry, or with `PermanentWriteError` to drop the batch. */
export interface SinkWriter {
  write(batch: readonly string[], signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** A batch the target refused for good (e.g. HTTP 400): retrying would not help. */
export class PermanentWriteError extends Error {}

export interface LogSinkOptions {
  readonly maxQueue: number;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly maxRetries: number;
  readonly retryBackoffMs: number;
}

export interface LogSinkDeps {
  readonly logger: Logger;
  /** Messages written or dropped, for `tollgate_logger_messages_total`. */
  readonly count: (result: 'written' | 'dropped', n: number) => void;
  /** Injected in tests: retry jitter. */
  readonly random?: () => number;
}

const MAX_BACKOFF_MS = 30_000;

export class LogSink {
  readonly id: string;
  readonly #writer: SinkWriter;
  readonly #opts: LogSinkOptions;
  readonly #deps: LogSinkDeps;
  readonly #outage: OutageLog;
  #queue: string[] = [];
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #closing = false;
  #closed: Promise<void> | null = null;
  /** Aborted when a drain's deadline passes: a write (and its retries) in progress gives up. */
  readonly #abort = new AbortController();
  #droppedFull = false;
  #done = false;

  constructor(id: string, writer: SinkWriter, opts: LogSinkOptions, deps: LogSinkDeps) {
    this.id = id;
    this.#writer = writer;
    this.#opts = opts;
    this.#deps = deps;
    this.#outage = new OutageLog({
      component: `logger:${id}`,
      failingMessage: `usage logger "${id}" cannot write; messages are retried, then dropped`,
      recoveredMessage: `usage logger "${id}" writes again`,
      logger: deps.logger,
    });
  }

  /** Messages waiting to be written. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Queues one message (written as one JSON line, see messageLine). Never throws, never waits. */
  push(message: string): void {
    if (this.#done) {
      // Arrived after the drain finished (a stream that ended after a reload): nothing will write it.
      this.#drop(1, 'logger closed');
      return;
    }
    if (this.#queue.length >= this.#opts.maxQueue) {
      this.#drop(1, `queue full (${this.#opts.maxQueue} messages)`);
      return;
    }
    this.#droppedFull = false;
    this.#queue.push(message);
    if (this.#running !== null) return;
    if (this.#closing || this.#queue.length >= this.#opts.batchSize) this.#start();
    else this.#timer ??= setTimeout(() => this.#start(), this.#opts.flushIntervalMs).unref();
  }

  /** Writes what is queued (and what arrives meanwhile) within `deadlineMs`, then closes the writer. */
  close(deadlineMs = 10_000): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing = true;
      const deadline = setTimeout(() => this.#abort.abort(), deadlineMs).unref();
      try {
        this.#start();
        while (this.#running !== null) await this.#running;
      } finally {
        clearTimeout(deadline);
        if (this.#queue.length > 0) this.#drop(this.#queue.splice(0).length, 'drain deadline passed');
        this.#done = true;
        await this.#writer.close().catch(() => undefined);
      }
    })();
    return this.#closed;
  }

  #start(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#running !== null || this.#queue.length === 0) return;
    this.#running = this.#run().finally(() => {
      this.#running = null;
      if (this.#queue.length === 0) return;
      if (this.#closing || this.#queue.length >= this.#opts.batchSize) this.#start();
      else this.#timer ??= setTimeout(() => this.#start(), this.#opts.flushIntervalMs).unref();
    });
  }

  /** Writes a batch, and more while full batches (or a drain) are waiting. */
  async #run(): Promise<void> {
    do {
      // Formatting (JSON compaction) happens here, off the request path.
      await this.#writeWithRetries(this.#queue.splice(0, this.#opts.batchSize).map(messageLine));
    } while (this.#queue.length > 0 && (this.#closing || this.#queue.length >= this.#opts.batchSize));
  }

  async #writeWithRetries(batch: string[]): Promise<void> {
    const signal = this.#abort.signal;
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) return this.#drop(batch.length, 'drain deadline passed');
      try {
        // A writer that ignores the signal still cannot hold a drain past its deadline.
        await abortable(this.#writer.write(batch, signal), signal);
        this.#outage.success();
        this.#deps.count('written', batch.length);
        return;
      } catch (err) {
        const detail = err instanceof Error ? err.message : String(err);
        this.#outage.failure(detail);
        if (err instanceof PermanentWriteError || attempt >= this.#opts.maxRetries) return this.#drop(batch.length, detail);
        const base = Math.min(MAX_BACKOFF_MS, this.#opts.retryBackoffMs * 2 ** attempt);
        // Half fixed, half random: replicas that failed together do not retry together.
        await sleep(base / 2 + (this.#deps.random ?? Math.random)() * (base / 2), signal);
      }
    }
  }

  #drop(n: number, why: string): void {
    this.#deps.count('dropped', n);
    // A full queue drops on every push while it lasts: one warning per run of drops.
    if (why.startsWith('queue full')) {
      if (this.#droppedFull) return;
      this.#droppedFull = true;
    }
    this.#deps.logger.warn({ logger: this.id, dropped: n, reason: why }, 'usage logger dropped messages');
  }
}

/**
 * A log-to-eventhub message as one line of JSON: a message that is JSON (a JObject's `ToString()`,
 * indented or not) is written compact; any other text is written as a JSON string. So every line
 * of a file or stdout logger is one JSON value, and an HTTP batch is a JSON array of them.
 */
export function messageLine(message: string): string {
  const t = message.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return JSON.stringify(JSON.parse(t));
    } catch {
      // Not JSON after all: written as a string below.
    }
  }
  return JSON.stringify(message);
}

function abortable(work: Promise<void>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(new Error('drain deadline passed'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
