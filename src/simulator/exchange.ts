/**
 * @module
 * One request/response pair and the socket-level moves the simulator makes on it: paced writes
 * that respect backpressure, deliberate cuts and stalls, and waits that end the moment the client
 * goes away or the simulator closes (so no timer outlives its request).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Fault } from './controls.ts';

export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  /** Aborted when the response closes for any reason or the simulator shuts down. */
  signal: AbortSignal;
  /** Headers every response carries (ids, region, name, rate-limit state at call time). */
  commonHeaders(): OutgoingHttpHeaders;
  /**
   * Ends the connection on purpose (not counted as a client abort). `cut` delivers what was
   * already written, then closes mid-response; `reset` drops the connection with a TCP RST.
   */
  destroySocket(mode: 'cut' | 'reset'): void;
}

/** Resolves `true` after `ms`, or `false` as soon as `signal` aborts; the timer never leaks. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(function elapsed() {
      signal.removeEventListener('abort', aborted);
      resolve(true);
    }, ms);
    function aborted(): void {
      clearTimeout(timer);
      resolve(false);
    }
    signal.addEventListener('abort', aborted, { once: true });
  });
}

/** Holds the exchange open, sending nothing, until the client or the simulator ends it. */
export function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * Writes one piece and, when the socket buffer is full, waits for `drain` so a slow reader slows
 * the stream down instead of growing memory. `false` means the exchange is gone; stop writing.
 */
export function writePiece(exchange: Exchange, data: string | Buffer): Promise<boolean> {
  const { res, signal } = exchange;
  if (signal.aborted || res.destroyed) return Promise.resolve(false);
  if (res.write(data)) return Promise.resolve(true);
  return new Promise((resolve) => {
    function drained(): void {
      signal.removeEventListener('abort', aborted);
      resolve(true);
    }
    function aborted(): void {
      res.removeListener('drain', drained);
      resolve(false);
    }
    res.once('drain', drained);
    signal.addEventListener('abort', aborted, { once: true });
  });
}

/**
 * Sends a JSON body, honouring `cut-after:N` / `stall-after:N` by sending only the first N bytes
 * (fewer than the whole body, so the reply is always visibly truncated).
 */
export async function sendJson(
  exchange: Exchange,
  status: number,
  body: unknown,
  fault: Fault,
  extraHeaders: OutgoingHttpHeaders = {},
): Promise<void> {
  const { res } = exchange;
  if (exchange.signal.aborted || res.headersSent) return;
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    ...exchange.commonHeaders(),
    ...extraHeaders,
    'content-type': 'application/json',
    'content-length': payload.length,
  });
  if (fault.kind !== 'cut-after' && fault.kind !== 'stall-after') {
    res.end(payload);
    return;
  }
  res.flushHeaders();
  const sent = Math.min(fault.count, Math.max(0, payload.length - 1));
  if (sent > 0 && !(await writePiece(exchange, payload.subarray(0, sent)))) return;
  if (fault.kind === 'cut-after') exchange.destroySocket('cut');
  else await waitForAbort(exchange.signal);
}
