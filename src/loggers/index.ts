/**
 * Builds the usage loggers a configuration declares (`loggers:`), one `LogSink` each (a bounded
 * queue in front of a file, HTTP, Redis-stream or stdout writer).
 * @module
 */
import type { Writable } from 'node:stream';
import type { Config, LoggerConfig } from '../config/schema.ts';
import type { Logger } from '../observability/logger.ts';
import type { OutboundClient } from '../upstream/outbound-client.ts';
import { LogSink, type LogSinkDeps, type SinkWriter } from './log-sink.ts';
import { FileWriter } from './file-writer.ts';
import { HttpWriter } from './http-writer.ts';
import { RedisStreamWriter } from './redis-stream-writer.ts';
import { StreamWriter } from './stdout-writer.ts';

export { LogSink, messageLine } from './log-sink.ts';

export interface LogSinksDeps {
  readonly logger: Logger;
  readonly outbound: OutboundClient;
  readonly stdout: Writable;
  readonly count: (logger: string, result: 'written' | 'dropped', n: number) => void;
}

export class LogSinks {
  readonly #sinks = new Map<string, LogSink>();

  constructor(loggers: Config['loggers'], deps: LogSinksDeps) {
    for (const [id, cfg] of Object.entries(loggers)) {
      const sinkDeps: LogSinkDeps = { logger: deps.logger, count: (result, n) => deps.count(id, result, n) };
      this.#sinks.set(id, new LogSink(id, writerFor(id, cfg, deps), cfg, sinkDeps));
    }
  }

  get(id: string): LogSink | undefined {
    return this.#sinks.get(id);
  }

  /** Drains every sink (in parallel) within `deadlineMs`. */
  async close(deadlineMs?: number): Promise<void> {
    await Promise.allSettled([...this.#sinks.values()].map((s) => s.close(deadlineMs)));
  }
}

function writerFor(id: string, cfg: LoggerConfig, deps: LogSinksDeps): SinkWriter {
  switch (cfg.type) {
    case 'stdout':
      return new StreamWriter(deps.stdout);
    case 'file':
      return new FileWriter(cfg);
    case 'http': {
      // A literal internal address was refused at load (src/config/references.ts); host names
      // are judged by the guarded dispatcher when they are resolved.
      return new HttpWriter({ url: new URL(cfg.url), headers: cfg.headers, timeoutMs: cfg.timeoutMs, dispatcher: deps.outbound.dispatcher });
    }
    case 'redis-stream':
      return new RedisStreamWriter({
        url: cfg.url,
        stream: cfg.stream,
        maxLen: cfg.maxLen,
        commandTimeoutMs: cfg.commandTimeoutMs,
        onError: (message) => deps.logger.debug({ logger: id, detail: message }, 'usage logger Redis connection error'),
      });
  }
}
