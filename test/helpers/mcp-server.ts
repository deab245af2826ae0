/**
 * A real MCP server for pass-through tests: the official SDK's `McpServer` over its Node
 * Streamable HTTP transport, stateful (one session per client), on a loopback port. It records
 * every HTTP request it gets (method and headers) so tests can see what the gateway forwarded.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

export interface TestMcpServer {
  /** `http://127.0.0.1:port/mcp` */
  readonly url: string;
  readonly seen: SeenRequest[];
  readonly closedSessions: string[];
  /** Lets the `hold` tool finish (it waits for this after its first progress notification). */
  release(): void;
  /** Sends `notifications/tools/list_changed` to every session (over its GET stream). */
  notifyToolsChanged(): void;
  close(): Promise<void>;
}

/**
 * Tools: `add` (a + b), `echo`, `count` (a progress notification per step, then the answer) and
 * `hold` (one progress notification, then waits for `release()`: the notification can reach the
 * client only if the answer is streamed, not buffered).
 */
function buildServer(gate: { wait: () => Promise<void> }): McpServer {
  const server = new McpServer({ name: 'test-mcp', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
  server.registerTool('add', { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } }, ({ a, b }) => ({
    content: [{ type: 'text', text: String(a + b) }],
  }));
  server.registerTool('echo', { description: 'Echoes a text', inputSchema: { text: z.string() } }, ({ text }) => ({ content: [{ type: 'text', text }] }));
  server.registerTool('count', { description: 'Counts to n with progress', inputSchema: { n: z.number().int().min(1).max(10) } }, async ({ n }, extra) => {
    const token = extra._meta?.progressToken;
    for (let i = 1; i <= n; i++) {
      if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: n } });
    }
    return { content: [{ type: 'text', text: `counted to ${n}` }] };
  });
  server.registerTool('hold', { description: 'Reports progress, then waits to be released' }, async (extra) => {
    const token = extra._meta?.progressToken;
    if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: 1, total: 2 } });
    await gate.wait();
    return { content: [{ type: 'text', text: 'released' }] };
  });
  return server;
}

/** `requireHeader`: a header (name, value) every request must carry, or it gets 401. */
export async function startTestMcpServer(requireHeader?: readonly [string, string]): Promise<TestMcpServer> {
  const seen: SeenRequest[] = [];
  const closedSessions: string[] = [];
  const sessions = new Map<string, { server: McpServer; transport: StreamableHTTPServerTransport }>();
  let open: () => void = () => undefined;
  let opened = new Promise<void>((resolve) => (open = resolve));
  const gate = { wait: () => opened };
  const http: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (requireHeader !== undefined && req.headers[requireHeader[0]] !== requireHeader[1]) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('backend credential missing');
      return;
    }
    const sid = req.headers['mcp-session-id'];
    const known = typeof sid === 'string' ? sessions.get(sid) : undefined;
    if (known !== undefined) {
      void known.transport.handleRequest(req, res);
      return;
    }
    if (sid !== undefined || req.method !== 'POST') {
      res.writeHead(sid === undefined ? 400 : 404, { 'content-type': 'text/plain' }).end('unknown session');
      return;
    }
    const server = buildServer(gate);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => void sessions.set(id, { server, transport }),
      onsessionclosed: (id) => {
        closedSessions.push(id);
        sessions.delete(id);
      },
    });
    void server.connect(transport).then(() => transport.handleRequest(req, res));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    seen,
    closedSessions,
    release: () => {
      open();
      opened = new Promise<void>((resolve) => (open = resolve));
    },
    notifyToolsChanged: () => {
      for (const { server } of sessions.values()) server.sendToolListChanged();
    },
    close: async () => {
      for (const { server } of sessions.values()) await server.close();
      sessions.clear();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
