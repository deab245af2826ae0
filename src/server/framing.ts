/**
 * Request framing checks at the listener, before any handler code reads the request. Node's
 * parser (llhttp, strict mode) already refuses most desync vectors with its own 400 and a closed
 * socket (CL+TE, duplicate Content-Length, bare CR, obs-fold, space before the colon); what it lets
 * through and a proxy must not (RFC 9112 §6.1, §3.2, §7.2) is refused here the same way:
 * - a `Transfer-Encoding` other than exactly `chunked` (`identity, chunked`, `gzip, chunked`):
 *   peers disagree on what such a list means, which is the root of request smuggling;
 * - more than one `Host` header (Node silently keeps the first);
 * - a request target that is neither origin-form (`/path`) nor absolute-form (`http://h/path`),
 *   except `*` and CONNECT's authority-form, which routing refuses with their own errors.
 * An absolute-form target is rewritten to origin-form in place, so routing, policies and the
 * backend only ever see a path (RFC 9112 §3.2.2: a server must accept the absolute form and use
 * its path; it is never forwarded raw).
 * A refused socket answers no further requests: anything pipelined behind a refused request may
 * be the smuggled half and is dropped unanswered.
 * @module
 */
import { requestId as newRequestId } from '../core/request-id.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { GatewayError, renderErrorBody } from '../core/errors.ts';

const ABSOLUTE_FORM = /^https?:\/\/[^/?#]*/i;

/** Returns why the request cannot be accepted, or undefined; rewrites an absolute-form target. */
export function checkFraming(req: IncomingMessage): GatewayError | undefined {
  const te = req.headers['transfer-encoding'];
  if (te !== undefined && te.trim().toLowerCase() !== 'chunked') {
    return new GatewayError('GW_ERR_INVALID_REQUEST', 'Transfer-Encoding must be exactly "chunked" when present.');
  }
  let hosts = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if ((raw[i] as string).length === 4 && (raw[i] as string).toLowerCase() === 'host') hosts++;
  if (hosts > 1) return new GatewayError('GW_ERR_INVALID_REQUEST', 'The request has more than one Host header.');
  const target = req.url ?? '';
  if (target.startsWith('/')) return undefined;
  const absolute = ABSOLUTE_FORM.exec(target);
  if (absolute !== null) {
    const rest = target.slice(absolute[0].length);
    req.url = rest.startsWith('/') ? rest : `/${rest}`;
    return undefined;
  }
  if (target === '*' || req.method === 'CONNECT') return undefined;
  return new GatewayError('GW_ERR_INVALID_REQUEST', 'The request target must be a path or an absolute http(s) URL.');
}

/**
 * Wraps a node:http request listener with the framing checks. A refusal is answered 400 in the
 * OpenAI error format with `Connection: close`, before the request reaches the handler (so it
 * has no usage record, like the parser's own 400s).
 */
export function withFramingChecks(next: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void {
  const refused = new WeakSet<Socket>();
  return function framedRequest(req, res) {
    const socket = req.socket;
    if (refused.has(socket)) {
      res.destroy();
      return;
    }
    const err = checkFraming(req);
    if (err === undefined) {
      next(req, res);
      return;
    }
    refused.add(socket);
    const requestId = newRequestId();
    const body = renderErrorBody(err, requestId);
    res.writeHead(err.status, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'x-request-id': requestId,
      connection: 'close',
    });
    res.end(body);
  };
}
