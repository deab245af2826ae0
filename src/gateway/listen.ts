/**
 * Binding the gateway's listeners and closing them: a listener that cannot start fails with a
 * ListenError that names it and its address, so the operator knows which setting to change.
 * @module
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A listener that could not start, named (gateway, admin, simulator "x") with its address, so the
 * operator knows which setting to change; `code` is the system's (EADDRINUSE, EACCES, ...).
 */
export class ListenError extends Error {
  readonly code: string | undefined;

  constructor(listener: string, address: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'address already in use' : code === 'EACCES' ? 'permission denied' : (cause as Error).message;
    super(`${listener} listener ${address}: ${why}`, { cause });
    this.name = 'ListenError';
    this.code = code;
  }
}

export function listenerError(listener: string, address: string, err: unknown): unknown {
  return (err as NodeJS.ErrnoException).code === undefined ? err : new ListenError(listener, address, err);
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function listen(server: Server, address: string, listener: string): Promise<string> {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(at + 1));
  try {
    // listen() itself throws for a port out of range; the rest comes as an 'error' event.
    server.listen(port, host);
    await once(server, 'listening');
  } catch (err) {
    throw new ListenError(listener, address, err);
  }
  const bound = server.address() as AddressInfo;
  const shown = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return `http://${shown}:${bound.port}`;
}
