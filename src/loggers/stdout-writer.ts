/**
 * `type: stdout`: one JSON line per message on the process's standard output (containers ship it).
 * The stream is injected (the gateway passes process.stdout), so tests read what was written.
 * @module
 */
import type { Writable } from 'node:stream';
import type { SinkWriter } from './log-sink.ts';

export class StreamWriter implements SinkWriter {
  readonly #out: Writable;

  constructor(out: Writable) {
    this.#out = out;
  }

  write(batch: readonly string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      // The callback fires once the data is handed to the OS (or fails): a slow reader of stdout
      // holds the batch here, and the sink's bounded queue behind it, never the request.
      this.#out.write(`${batch.join('\n')}\n`, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
