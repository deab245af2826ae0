/**
 * Command deadlines for the Redis store, tolerant of event-loop lag.
 *
 * ioredis's `commandTimeout` is a timer per command that rejects when it fires. On a gateway at
 * saturation, one turn of the event loop can take longer than the 20 ms budget; the timer phase
 * of the next turn then runs BEFORE the poll phase that would read the reply already waiting in
 * the socket, and a call Redis answered in 100 µs is reported as timed out (the bench saw ~3% of
 * requests answered by the fail-open fallback that way). Here a due deadline is only acted on in
 * the check phase (`setImmediate`), after one more poll phase has read what the socket holds,
 * and only for deadlines that were already due when the timer fired (before that poll phase): a
 * command still unanswered then has really had no reply for `ms` (measured on the monotonic
 * clock from when it was sent). A frozen Redis is still detected within `ms` plus one or two
 * turns of the loop.
 *
 * The clock starts when the command is written, not when it is issued: the store corks its socket
 * for the rest of the event-loop turn (redis-client.ts `writeCoalescer`) and calls `sent()` when it
 * uncorks, so a turn that stays busy after issuing a command does not eat into its budget.
 *
 * Every command of a store has the same timeout, so deadlines arrive in the order the commands
 * were sent: one FIFO queue and one timer for its head, instead of a timer per command.
 * @module
 */

interface Pending {
  /** Deadline; Infinity until the command is written (`sent()`). */
  at: number;
  readonly reject: (err: Error) => void;
  done: boolean;
}

/** A command got no reply within its deadline. */
export class CommandTimeoutError extends Error {
  /**
   * `sentAt`: when the command was written; `detectedAt`: when its deadline was found passed
   * (both on the Deadlines' clock). Timeouts of commands written before an earlier timeout was
   * detected saw the same silence of Redis: the store's breaker counts them once.
   */
  readonly sentAt: number;
  readonly detectedAt: number;
  constructor(ms: number, sentAt = 0, detectedAt = 0) {
    super(`Command timed out (${ms} ms)`);
    this.name = 'CommandTimeoutError';
    this.sentAt = sentAt;
    this.detectedAt = detectedAt;
  }
}

/** Queue entries kept before the consumed head of the array is dropped. */
const COMPACT_AT = 1024;

export class Deadlines {
  readonly #ms: number;
  readonly #clock: () => number;
  #queue: Pending[] = [];
  #head = 0;
  /** Entries from this index on have not been written yet (no deadline). */
  #unsent = 0;
  #timer: NodeJS.Timeout | undefined;
  /** When the timer last fired: the deadlines due then have had a poll phase since. */
  #firedAt = 0;
  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#firedAt = this.#clock();
    setImmediate(this.#sweep);
  };
  readonly #sweep = (): void => this.#expire();

  /** `clock` is monotonic milliseconds (injectable for tests). */
  constructor(ms: number, clock: () => number = () => performance.now()) {
    this.#ms = ms;
    this.#clock = clock;
  }

  /** `p`, or a CommandTimeoutError when it has not settled `ms` after the next `sent()` (see above). */
  within<T>(p: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { at: Infinity, reject, done: false };
      this.#queue.push(entry);
      p.then(
        (v) => {
          entry.done = true;
          resolve(v);
        },
        (err: unknown) => {
          entry.done = true;
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  /** The commands given to `within` so far have been written: their clocks start now. */
  sent(): void {
    const q = this.#queue;
    if (this.#unsent === q.length) return;
    const at = this.#clock() + this.#ms;
    for (let i = this.#unsent; i < q.length; i++) (q[i] as Pending).at = at;
    this.#unsent = q.length;
    if (this.#timer === undefined) this.#arm((q[this.#head] as Pending).at);
  }

  /** Commands waiting for a reply or a deadline (for tests). */
  get pending(): number {
    let n = 0;
    for (let i = this.#head; i < this.#queue.length; i++) if (!(this.#queue[i] as Pending).done) n++;
    return n;
  }

  #arm(at: number): void {
    if (at === Infinity) return; // armed by sent()
    this.#timer = setTimeout(this.#onTimer, Math.max(0, Math.ceil(at - this.#clock())));
    this.#timer.unref();
  }

  #expire(): void {
    // Not the time now: a deadline that passed after the timer fired (while this very turn was
    // busy) has had no poll phase since; it is checked on the next turn.
    const now = this.#firedAt;
    const q = this.#queue;
    while (this.#head < q.length) {
      const e = q[this.#head] as Pending;
      if (!e.done) {
        if (e.at > now) break;
        e.done = true;
        e.reject(new CommandTimeoutError(this.#ms, e.at - this.#ms, now));
      }
      this.#head++;
    }
    if (this.#head === q.length) {
      this.#queue = [];
      this.#unsent = Math.max(0, this.#unsent - this.#head);
      this.#head = 0;
    } else if (this.#head >= COMPACT_AT) {
      this.#queue = q.slice(this.#head);
      this.#unsent = Math.max(0, this.#unsent - this.#head);
      this.#head = 0;
    }
    const next = this.#queue[this.#head];
    if (next !== undefined && this.#timer === undefined) this.#arm(next.at);
  }
}
