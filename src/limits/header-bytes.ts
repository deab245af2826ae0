/**
 * The size of the response header block as written to the client, for bandwidth quotas (APIM
 * counts the whole response, not just its body).
 * @module
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';

/**
 * Bytes of the status line and headers, including the blank line that ends them: node's own
 * serialisation (`_header`, the exact bytes it wrote, with the `Date`, `Connection` and
 * `Transfer-Encoding` it adds) when it has one, else the same rebuilt from the headers that were
 * set. 0 when no header was sent (the client went away first).
 */
export function headerBytes(res: ServerResponse): number {
  if (!res.headersSent) return 0;
  const written = (res as unknown as { _header?: unknown })._header;
  if (typeof written === 'string') return Buffer.byteLength(written, 'latin1');
  let n = `HTTP/1.1 ${res.statusCode} ${res.statusMessage || (STATUS_CODES[res.statusCode] ?? '')}\r\n`.length + 2;
  for (const [name, value] of Object.entries(res.getHeaders())) {
    for (const v of Array.isArray(value) ? value : [value]) n += Buffer.byteLength(`${name}: ${String(v)}\r\n`, 'latin1');
  }
  return n;
}
