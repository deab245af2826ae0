/**
 * HTTP/1.1 over a raw socket, for requests a client library would normalise or refuse to send
 * (`/a/../b`, `%2e%2e`, `//x`, TRACE, CONNECT, spoofed hop-by-hop headers, smuggling, slow headers,
 * lying bodies). The request goes out byte for byte; the answer is read until the server closes
 * the connection. Also a fake upstream that records every request it receives. Loopback only.
 */
import { connect, type Socket } from 'node:net';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

export interface RawResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends `head` (request line and headers, without the blank line; `Host` and
 * `Connection: close` are added) and `body`, and parses the answer.
 */
export function rawRequest(baseUrl: string, head: string, body = ''): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const lines = head.split('\r\n').filter((l) => l !== '');
  lines.push(`Host: ${url.host}`, 'Connection: close');
  if (body !== '') lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  const wire = lines.join('\r\n') + '\r\n\r\n' + body;
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(wire));
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error('raw request timed out')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      try {
        resolve(parse(Buffer.concat(chunks).toString('latin1')));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}

/** Requests with JSON bodies, as a raw request line plus headers. */
export function rawJson(baseUrl: string, requestLine: string, headers: Record<string, string>, json: unknown): Promise<RawResponse> {
  const head = [requestLine, 'Content-Type: application/json', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join('\r\n');
  return rawRequest(baseUrl, head, JSON.stringify(json));
}

function parse(text: string): RawResponse {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no complete response head in ${JSON.stringify(text.slice(0, 200))}`);
  const [statusLine = '', ...headerLines] = text.slice(0, end).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  let body = text.slice(end + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = unchunk(body);
  return { status, headers, body: Buffer.from(body, 'latin1').toString('utf8') };
}

function unchunk(data: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return out;
    const size = parseInt(data.slice(at, lineEnd), 16);
    if (!(size > 0)) return out;
    out += data.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}

export interface RawResult {
  /** Everything the server sent, as Latin-1 text. */
  readonly text: string;
  /** The server closed the connection (rather than the wait running out). */
  readonly closed: boolean;
  /** Milliseconds from connect to close (or to the end of the wait). */
  readonly ms: number;
}

/** Opens a connection to `url`'s host and port. */
export async function openSocket(url: string): Promise<Socket> {
  const u = new URL(url);
  const socket = connect(Number(u.port), u.hostname);
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  return socket;
}

/** Collects what the server sends until it closes the socket or `waitMs` passes. */
export function collect(socket: Socket, waitMs: number): Promise<RawResult> {
  const start = Date.now();
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false, ms: Date.now() - start });
    }, waitMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true, ms: Date.now() - start });
    });
  });
}

/** Sends `data` exactly as given (pipelined requests too) on a fresh connection and collects the answer. */
export async function rawExchange(url: string, data: string | Buffer, waitMs = 2000): Promise<RawResult> {
  const socket = await openSocket(url);
  const result = collect(socket, waitMs);
  socket.write(data);
  return result;
}

/** Status codes of every response in `text`, in order. */
export function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

export interface FakeUpstream {
  readonly url: string;
  /** Method and raw target of every request received. */
  readonly seen: Array<{ method: string; url: string; headers: IncomingMessage['headers'] }>;
  readonly server: Server;
  close(): Promise<void>;
}

/** An upstream that answers every request with a small chat completion, recording what it got. */
export async function startFakeUpstream(handle?: Parameters<typeof createServer>[1]): Promise<FakeUpstream> {
  const seen: FakeUpstream['seen'] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (handle !== undefined) return handle(req, res);
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({
        id: 'chatcmpl-fake',
        object: 'chat.completion',
        model: 'gpt-4o',
        choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
