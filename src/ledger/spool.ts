/**
 * The writer's spool: ledger rows the database could not take (an outage, a timeout, a full
 * queue), appended as JSON lines to a local file and flushed to disk before they count as kept,
 * then replayed into the database when it answers again. Bounded by `maxBytes`: past it rows are
 * dropped and counted (the operator sees an error line), never buffered without end. A line cut
 * by a crash mid-write is skipped at replay.
 * @module
 */
import { closeSync, createReadStream, fsyncSync, mkdirSync, openSync, statSync, truncateSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { LedgerRow } from './store.ts';

export class LedgerSpool {
  readonly path: string;
  readonly #maxBytes: number;
  #bytes: number;

  constructor(path: string, maxBytes: number) {
    this.path = path;
    this.#maxBytes = maxBytes;
    mkdirSync(dirname(path), { recursive: true });
    // Rows spooled by an earlier run are replayed by this one.
    let size = 0;
    try {
      size = statSync(path).size;
    } catch {
      size = 0;
    }
    this.#bytes = size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The lines that fit; the number of rows that did not (dropped). */
  #encode(rows: readonly LedgerRow[]): { text: string; dropped: number } {
    let text = '';
    let dropped = 0;
    let size = this.#bytes;
    for (const r of rows) {
      const line = `${JSON.stringify(r)}\n`;
      const n = Buffer.byteLength(line);
      if (size + n > this.#maxBytes) {
        dropped++;
        continue;
      }
      size += n;
      text += line;
    }
    return { text, dropped };
  }

  /** Appends and fsyncs; resolves with how many rows did not fit (dropped). */
  async append(rows: readonly LedgerRow[]): Promise<number> {
    const { text, dropped } = this.#encode(rows);
    if (text === '') return dropped;
    const fh = await open(this.path, 'a', 0o600);
    try {
      await fh.writeFile(text);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    this.#bytes += Buffer.byteLength(text);
    return dropped;
  }

  /** The same, synchronously: for the rare row that finds the queue full (the database is stuck). */
  appendSync(rows: readonly LedgerRow[]): number {
    const { text, dropped } = this.#encode(rows);
    if (text === '') return dropped;
    const fd = openSync(this.path, 'a', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.#bytes += Buffer.byteLength(text);
    return dropped;
  }

  /**
   * Hands the spooled rows to `insert` in batches, then empties the file. When `insert` throws,
   * the file stays as it is (rows already inserted are skipped by their request id next time).
   */
  async replay(batchSize: number, insert: (rows: LedgerRow[]) => Promise<void>): Promise<number> {
    if (this.#bytes === 0) return 0;
    const lines = createInterface({ input: createReadStream(this.path, { encoding: 'utf8' }), crlfDelay: Infinity });
    let batch: LedgerRow[] = [];
    let count = 0;
    try {
      for await (const line of lines) {
        const row = parseRow(line);
        if (row === null) continue;
        batch.push(row);
        if (batch.length >= batchSize) {
          await insert(batch);
          count += batch.length;
          batch = [];
        }
      }
      if (batch.length > 0) {
        await insert(batch);
        count += batch.length;
      }
    } finally {
      lines.close();
    }
    truncateSync(this.path, 0);
    this.#bytes = 0;
    return count;
  }
}

function parseRow(line: string): LedgerRow | null {
  if (line.trim() === '') return null;
  try {
    const v = JSON.parse(line) as Partial<LedgerRow>;
    return typeof v.requestId === 'string' && typeof v.ts === 'string' ? (v as LedgerRow) : null;
  } catch {
    return null;
  }
}

