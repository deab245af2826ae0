/**
 * `type: http`: each batch is POSTed as a JSON array of the messages. It goes through the guarded
 * outbound client (like send-request): internal addresses are refused unless
 * `outbound.allowPrivateNetworks` is on, redirects are not followed. 2xx is success; 408, 429 and
 * 5xx (and network errors, timeouts) are retried by the sink; any other status drops the batch.
 * Errors name the status or the error code, never the URL (it may hold a credential).
 * @module
 */
import type { Dispatcher } from 'undici';
import { PermanentWriteError, type SinkWriter } from './log-sink.ts';
import { readCapped } from '../upstream/read-bounded.ts';

export interface HttpWriterOptions {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly dispatcher: Dispatcher;
}

/** Enough of an error answer to say what went wrong in the log; the rest is discarded. */
const MAX_ERROR_BODY = 4096;

export class HttpWriter implements SinkWriter {
  readonly #opts: HttpWriterOptions;

  constructor(opts: HttpWriterOptions) {
    this.#opts = opts;
  }

  async write(batch: readonly string[], signal: AbortSignal): Promise<void> {
    const { url, headers, timeoutMs, dispatcher } = this.#opts;
    let res: Dispatcher.ResponseData;
    try {
      res = await dispatcher.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: `[${batch.join(',')}]`,
        signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      throw new Error(`POST failed (${typeof code === 'string' ? code : (err as Error).name})`);
    }
    // The answer is not used: read a little (so the connection can be reused) and drop it.
    await readCapped(res.body, MAX_ERROR_BODY).catch(() => undefined);
    const status = res.statusCode;
    if (status >= 200 && status < 300) return;
    const retryable = status === 408 || status === 429 || status >= 500;
    throw retryable ? new Error(`POST answered ${status}`) : new PermanentWriteError(`POST answered ${status}; the batch is dropped`);
  }

  close(): Promise<void> {
    // The dispatcher is the runtime's outbound client: it closes with the runtime.
    return Promise.resolve();
  }
}
