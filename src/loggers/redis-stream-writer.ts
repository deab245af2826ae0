/**
 * `type: redis-stream`: each message is `XADD <stream> MAXLEN ~ <maxLen> * message <json>`, a
 * batch in one pipeline. The client fails fast (no offline queue, no replay: see
 * src/state/redis-client.ts); every batch has a deadline, and the sink retries a failed batch.
 * A replayed batch may add a message twice when Redis applied it but the answer was lost.
 * @module
 */
import { createRedisClient, onConnectionError, type RedisClient } from '../state/redis-client.ts';
import type { SinkWriter } from './log-sink.ts';

export interface RedisStreamWriterOptions {
  readonly url: string;
  readonly stream: string;
  readonly maxLen: number;
  readonly commandTimeoutMs: number;
  /** Connection errors, once per cause (the message names host and port, never the password). */
  readonly onError: (message: string) => void;
}

export class RedisStreamWriter implements SinkWriter {
  readonly #opts: RedisStreamWriterOptions;
  #client: RedisClient | null = null;

  constructor(opts: RedisStreamWriterOptions) {
    this.#opts = opts;
  }

  async write(batch: readonly string[], signal: AbortSignal): Promise<void> {
    const client = this.#connect();
    const { stream, maxLen, commandTimeoutMs } = this.#opts;
    await withDeadline(
      (async () => {
        if (client.status !== 'ready') await waitReady(client, signal);
        const pipeline = client.pipeline();
        for (const message of batch) pipeline.xadd(stream, 'MAXLEN', '~', maxLen, '*', 'message', message);
        const results = (await pipeline.exec()) ?? [];
        const failed = results.find(([err]) => err !== null);
        if (failed?.[0]) throw failed[0];
      })(),
      commandTimeoutMs,
      signal,
    );
  }

  #connect(): RedisClient {
    if (this.#client === null) {
      this.#client = createRedisClient({ urls: [this.#opts.url], cluster: false });
      onConnectionError(this.#client, this.#opts.onError);
    }
    return this.#client;
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    if (client === null) return;
    await client.quit().catch(() => client.disconnect());
  }
}

function waitReady(client: RedisClient, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      client.off('ready', ok);
      signal.removeEventListener('abort', aborted);
      if (err) reject(err);
      else resolve();
    };
    const ok = (): void => done();
    const aborted = (): void => done(new Error('aborted'));
    client.on('ready', ok);
    signal.addEventListener('abort', aborted, { once: true });
  });
}

async function withDeadline<T>(work: Promise<T>, ms: number, signal: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
    onAbort = () => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, guard]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
    work.catch(() => undefined);
  }
}
