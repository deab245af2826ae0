/**
 * node:http hands a CONNECT request to the server's 'connect' event, not to the request
 * handler, and without a listener it drops the connection with no answer. The gateway never
 * opens tunnels (one would bypass every policy and the backend's credential handling), but the
 * client deserves an answer in the gateway's format, a request id and a usage record like any
 * other request: so the CONNECT goes through the normal handler on a response bound to its
 * socket, which refuses it with 405, and the connection closes after the answer.
 * @module
 */
import { ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';

export function answerConnectWith(server: Server, handle: (req: IncomingMessage, res: ServerResponse) => void): void {
  server.on('connect', function onConnect(req: IncomingMessage, socket: Duplex) {
    const res = new ServerResponse(req);
    // The bytes after the CONNECT head (a tunnel's first bytes) are never read: close after the answer.
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Parameters<ServerResponse['assignSocket']>[0]);
    res.on('finish', () => {
      res.detachSocket(socket as Parameters<ServerResponse['detachSocket']>[0]);
      socket.end();
    });
    socket.on('error', () => socket.destroy());
    handle(req, res);
  });
}
