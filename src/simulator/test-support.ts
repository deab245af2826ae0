/**
 * @module
 * Helpers for the simulator's own tests (and for gateway tests that drive a simulator): start one
 * per test with cleanup, post JSON, parse SSE, and talk raw HTTP where fetch would hide what the
 * socket did.
 */
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { startSimulator } from './server.ts';
import type { RunningSimulator, SimulatorOptions } from './options.ts';

interface TestContextLike {
  after(fn: () => Promise<void> | void): void;
}

/** Starts a simulator that is closed when the test ends. */
export async function useSimulator(t: TestContextLike, options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const simulator = await startSimulator(options);
  t.after(() => simulator.close());
  return simulator;
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** The response body as JSON, typed by the caller (tests pick the OpenAI type they expect). */
export async function readJson<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** `data:` payloads of an SSE body, JSON-parsed, with the literal `[DONE]` kept as a string. */
export function parseSse(text: string): unknown[] {
  const events: unknown[] = [];
  for (const block of text.split('\n\n')) {
    const line = block.trim();
    if (!line.startsWith('data: ')) continue;
    const data = line.slice('data: '.length);
    events.push(data === '[DONE]' ? data : (JSON.parse(data) as unknown));
  }
  return events;
}

/** Polls `check` every 5 ms until it holds, failing after `timeoutMs`. */
export async function waitUntil(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export interface RawOutcome {
  status: number | undefined;
  headers: IncomingHttpHeaders | undefined;
  body: string;
  /** The socket or response error, e.g. ECONNRESET or 'aborted' when the body was cut. */
  error: string | undefined;
  /** True when the response body ended normally. */
  complete: boolean;
}

/**
 * One POST over a fresh connection, reporting what the socket did instead of throwing.
 * `stopAfterMs` destroys the request (like a timing-out client) and resolves with what arrived.
 */
export function rawPost(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  stopAfterMs?: number,
): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const outcome: RawOutcome = { status: undefined, headers: undefined, body: '', error: undefined, complete: false };
    let settled = false;
    function settle(): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    }
    const payload = JSON.stringify(body);
    const req = request(url, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers },
    });
    const timer =
      stopAfterMs === undefined
        ? undefined
        : setTimeout(() => {
            req.destroy();
            settle();
          }, stopAfterMs);
    req.on('response', (res) => {
      outcome.status = res.statusCode;
      outcome.headers = res.headers;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        outcome.body += chunk;
      });
      res.on('end', () => {
        outcome.complete = true;
        settle();
      });
      res.on('error', (error) => {
        outcome.error = error.message;
        settle();
      });
      res.on('close', settle);
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      outcome.error = error.code ?? error.message;
      settle();
    });
    req.end(payload);
  });
}
