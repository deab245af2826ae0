/**
 * Moves ledger rows from the request path to the store: `add` only pushes onto a bounded queue;
 * batches are inserted off the request path (every `flushIntervalMs`, or at once when a batch is
 * full). A batch the store refuses or does not take within `timeoutMs` goes to the spool, and the
 * spool is replayed once the store answers again (idempotent by request id, so nothing is counted
 * twice). While the store is failing, batches go straight to the spool until the next retry.
 * `close` drains: the queue is written (or spooled) before it resolves.
 * @module
 */
import type { LedgerRow, LedgerStore } from './store.ts';
import type { LedgerSpool } from './spool.ts';
import type { OutageLog } from '../state/outage-log.ts';
import { withTimeout } from '../util/with-timeout.ts';

export interface LedgerWriterOptions {
  readonly store: LedgerStore;
  readonly spool: LedgerSpool;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  /** Rows waiting in memory at most; past it a row goes to the spool at once. */
  readonly maxQueue: number;
  /** Longest an insert may take before its batch is spooled. */
  readonly timeoutMs: number;
  /** After a failure, how long the writer spools before it tries the store (and the replay) again. */
  readonly retryMs: number;
  readonly outage: Pick<OutageLog, 'failure' | 'success'>;
  /** Rows lost for good (the spool is full or cannot be written): logged as an error. */
  readonly onDropped: (count: number, why: string) => void;
  readonly onReplayed: (count: number) => void;
  readonly clock?: () => number;
}

export interface LedgerWriterStats {
  written: number;
  spooled: number;
  replayed: number;
  dropped: number;
}

export class LedgerWriter {
  readonly stats: LedgerWriterStats = { written: 0, spooled: 0, replayed: 0, dropped: 0 };
  readonly #o: LedgerWriterOptions;
  readonly #clock: () => number;
  #queue: LedgerRow[] = [];
  #timer: NodeJS.Timeout | null = null;
  /** A full batch's write, scheduled for the next event-loop turn (#kickSoon). */
  #immediate: NodeJS.Immediate | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #retryAt = 0;
  #closed = false;

  constructor(o: LedgerWriterOptions) {
    this.#o = o;
    this.#clock = o.clock ?? Date.now;
    // Rows an earlier run spooled are replayed as soon as the store answers, and retried while
    // it does not, even when no request comes in.
    this.#retryTimer = setInterval(() => {
      if (this.#o.spool.bytes > 0) this.#kick();
    }, o.retryMs);
    this.#retryTimer.unref();
    if (o.spool.bytes > 0) this.#kick();
  }

  /** Rows waiting in memory. */
  get pending(): number {
    return this.#queue.length;
  }

  /** The request path's only cost: a push (and a timer when the queue was empty). */
  add(row: LedgerRow): void {
    if (this.#closed || this.#queue.length >= this.#o.maxQueue) {
      this.#spoolNow([row], this.#closed ? 'after close' : 'queue full');
      return;
    }
    this.#queue.push(row);
    if (this.#queue.length >= this.#o.batchSize) this.#kickSoon();
    else if (this.#timer === null) {
      this.#timer = setTimeout(() => this.#kick(), this.#o.flushIntervalMs);
      this.#timer.unref();
    }
  }

  #spoolNow(rows: LedgerRow[], why: string): void {
    try {
      const dropped = this.#o.spool.appendSync(rows);
      this.stats.spooled += rows.length - dropped;
      if (dropped > 0) this.#dropped(dropped, `spool full (${why})`);
    } catch (err) {
      this.#dropped(rows.length, `spool not writable: ${(err as Error).message}`);
    }
  }

  #dropped(n: number, why: string): void {
    this.stats.dropped += n;
    this.#o.onDropped(n, why);
  }

  /**
   * A full batch is written on the next turn of the event loop, not inside `add`: node:sqlite
   * inserts synchronously, and `add` runs in a request's finish, so the request that filled the
   * batch would otherwise carry a 500-row insert (a few milliseconds) on its own latency.
   */
  #kickSoon(): void {
    if (this.#immediate !== null) return;
    this.#immediate = setImmediate(() => {
      this.#immediate = null;
      this.#kick();
    });
  }

  #kick(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#running !== null) {
      this.#again = true;
      return;
    }
    this.#running = this.#run().finally(() => {
      this.#running = null;
      if (this.#again || this.#queue.length >= this.#o.batchSize) {
        this.#again = false;
        this.#kick();
      } else if (this.#queue.length > 0 && this.#timer === null && !this.#closed) {
        this.#timer = setTimeout(() => this.#kick(), this.#o.flushIntervalMs);
        this.#timer.unref();
      }
    });
  }

  async #run(): Promise<void> {
    const o = this.#o;
    if (o.spool.bytes > 0 && this.#clock() >= this.#retryAt) await this.#replay();
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, o.batchSize);
      if (this.#clock() < this.#retryAt || o.spool.bytes > 0) {
        // Failing store (or older rows still spooled): keep arrival order, spool, retry later.
        await this.#spool(batch);
        continue;
      }
      try {
        await withTimeout(o.store.insert(batch), o.timeoutMs, insertTimedOut(o.timeoutMs));
        this.stats.written += batch.length;
        o.outage.success();
      } catch (err) {
        this.#failed(err);
        await this.#spool(batch);
      }
    }
  }

  async #replay(): Promise<void> {
    const o = this.#o;
    try {
      const n = await o.spool.replay(o.batchSize, (rows) => withTimeout(o.store.insert(rows), o.timeoutMs, insertTimedOut(o.timeoutMs)));
      if (n > 0) {
        this.stats.replayed += n;
        o.onReplayed(n);
      }
      o.outage.success();
    } catch (err) {
      this.#failed(err);
    }
  }

  #failed(err: unknown): void {
    this.#retryAt = this.#clock() + this.#o.retryMs;
    this.#o.outage.failure(err instanceof Error ? err.message : String(err));
  }

  async #spool(rows: LedgerRow[]): Promise<void> {
    try {
      const dropped = await this.#o.spool.append(rows);
      this.stats.spooled += rows.length - dropped;
      if (dropped > 0) this.#dropped(dropped, 'spool full');
    } catch (err) {
      this.#dropped(rows.length, `spool not writable: ${(err as Error).message}`);
    }
  }

  /** Writes (or spools) everything queued, once more trying the store and the spool's replay. */
  async flush(): Promise<void> {
    await this.#idle();
    this.#retryAt = 0;
    this.#kick();
    await this.#idle();
  }

  async #idle(): Promise<void> {
    while (this.#running !== null) await this.#running;
  }

  /** Drains the queue (to the store, else the spool), then closes the store. */
  async close(): Promise<void> {
    if (this.#immediate !== null) clearImmediate(this.#immediate);
    this.#immediate = null;
    if (this.#retryTimer !== null) clearInterval(this.#retryTimer);
    this.#retryTimer = null;
    await this.flush();
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    await this.#o.store.close();
  }
}

const insertTimedOut = (ms: number): string => `ledger insert took longer than ${ms} ms`;
