/**
 * Logs a Redis dependency's health once per change of state, not once per failure: a Redis that
 * is down fails every command, every reconnect attempt and every poll (several times a second per
 * replica), and a log line for each buries everything else. One warning when it starts failing
 * (with the first failure's detail), one info line when it works again, with how many failures
 * there were in between and for how long.
 * @module
 */
import type { Logger } from '../observability/logger.ts';

export interface OutageLogOptions {
  /** The `stateEvent` field of every line, e.g. `limit-store`, `circuit-sharing`. */
  readonly component: string;
  /** The warning when it starts failing, e.g. "circuit sharing through Redis failing; local breakers still apply". */
  readonly failingMessage: string;
  /** The info line when it works again, e.g. "circuit sharing through Redis recovered". */
  readonly recoveredMessage: string;
  readonly logger: Logger;
  readonly clock?: () => number;
}

export class OutageLog {
  readonly #opts: OutageLogOptions;
  readonly #clock: () => number;
  #failing = false;
  #failures = 0;
  #since = 0;

  constructor(opts: OutageLogOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? Date.now;
  }

  get failing(): boolean {
    return this.#failing;
  }

  /** A failure; logged only when it is the first since the last success. */
  failure(detail: string): void {
    this.#failures++;
    if (this.#failing) return;
    this.#failing = true;
    this.#failures = 1;
    this.#since = this.#clock();
    this.#opts.logger.warn({ stateEvent: this.#opts.component, detail }, this.#opts.failingMessage);
  }

  /** A success; logged only when it ends a run of failures. */
  success(): void {
    if (!this.#failing) return;
    this.#failing = false;
    const failures = this.#failures;
    this.#failures = 0;
    this.#opts.logger.info({ stateEvent: this.#opts.component, failures, downMs: Math.max(0, Math.round(this.#clock() - this.#since)) }, this.#opts.recoveredMessage);
  }
}
