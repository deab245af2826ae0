/**
 * HTTP/1.1 over a raw socket, for requests a client library would normalise or refuse to send
 * (`/a/../b`, `%2e%2e`, `//x`, TRACE, CONNECT, spoofed hop-by-hop headers). The request goes out
 * byte for byte; the answer is read until the server closes the connection.
 */
import { connect } from 'node:net';

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
