/**
 * Reads a backend body up to a limit, or hands back a stream of everything past it.
 * @module
 */
import { PassThrough, type Readable } from 'node:stream';
import { backendError } from './errors.ts';

export type ReadResult = { kind: 'full'; data: Buffer } | { kind: 'overflow'; stream: Readable };

/**
 * Reads a body up to `limit` bytes; past that, hands back a stream of what was read plus the rest.
 * Event listeners rather than an async iterator: one promise per body instead of one per chunk,
 * which is measurable at concurrency 1 (see docs/performance.md).
 */
export function readBounded(body: Readable, limit: number, backendId: string): Promise<ReadResult> {
  return new Promise<ReadResult>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size <= limit) return;
      cleanup();
      body.pause();
      const rest = new PassThrough();
      for (const c of chunks) rest.write(c);
      body.pipe(rest);
      body.on('error', (err) => rest.destroy(err));
      resolve({ kind: 'overflow', stream: rest });
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ kind: 'full', data: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size) });
    };
    const onError = (err: unknown): void => {
      cleanup();
      reject(backendError(backendId, err, 'body'));
    };
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
  });
}

/**
 * Reads a whole body of at most `limit` bytes: undefined when it is larger (the body is then
 * destroyed, so its connection is not held for bytes nobody wants). For small answers read in
 * full or refused: identity documents and tokens, embeddings.
 */
export function readCapped(body: Readable, limit: number): Promise<Buffer | undefined> {
  return new Promise<Buffer | undefined>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      body.off('data', onData);
      body.off('end', onEnd);
      body.destroy();
      resolve(undefined);
    };
    const onEnd = (): void => resolve(chunks.length === 1 ? (chunks[0]) : Buffer.concat(chunks, size));
    body.on('data', onData);
    body.on('end', onEnd);
    // Stays attached: an error after the refusal settles nothing and must not go unhandled.
    body.on('error', reject);
  });
}
