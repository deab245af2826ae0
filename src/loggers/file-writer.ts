/**
 * `type: file`: JSON lines appended to `path`, rotated by size. When the next batch would take the
 * file past `maxBytes`, the files shift (`path.N-1` → `path.N` … `path` → `path.1`, the oldest
 * beyond `maxFiles` deleted) and a new file starts. A batch is never split across files, so a line
 * is never cut (a single batch larger than maxBytes makes one file larger than maxBytes).
 * @module
 */
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { SinkWriter } from './log-sink.ts';

export interface FileWriterOptions {
  readonly path: string;
  readonly maxBytes: number;
  readonly maxFiles: number;
}

export class FileWriter implements SinkWriter {
  readonly #opts: FileWriterOptions;
  #file: FileHandle | null = null;
  #size = 0;

  constructor(opts: FileWriterOptions) {
    this.#opts = opts;
  }

  async write(batch: readonly string[]): Promise<void> {
    const data = Buffer.from(`${batch.join('\n')}\n`, 'utf8');
    let file = await this.#open();
    if (this.#size > 0 && this.#size + data.length > this.#opts.maxBytes) {
      await this.#rotate();
      file = await this.#open();
    }
    try {
      await file.write(data);
    } catch (err) {
      // A half-written append leaves the size unknown: reopen (and re-stat) before the retry.
      await this.#closeFile();
      throw err;
    }
    this.#size += data.length;
  }

  async #open(): Promise<FileHandle> {
    if (this.#file !== null) return this.#file;
    await mkdir(dirname(this.#opts.path), { recursive: true });
    const file = await open(this.#opts.path, 'a', 0o640);
    this.#size = (await file.stat()).size;
    this.#file = file;
    return file;
  }

  async #rotate(): Promise<void> {
    await this.#closeFile();
    const { path, maxFiles } = this.#opts;
    if (maxFiles === 0) {
      await rm(path, { force: true });
      return;
    }
    await rm(`${path}.${maxFiles}`, { force: true });
    for (let i = maxFiles - 1; i >= 1; i--) {
      if (await exists(`${path}.${i}`)) await rename(`${path}.${i}`, `${path}.${i + 1}`);
    }
    await rename(path, `${path}.1`);
  }

  async #closeFile(): Promise<void> {
    const file = this.#file;
    this.#file = null;
    await file?.close().catch(() => undefined);
  }

  close(): Promise<void> {
    return this.#closeFile();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
