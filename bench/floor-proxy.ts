// "The floor": the least a Node proxy can do (node:http in, an undici keep-alive pool out). Tollgate
// is judged against it, so it must stay this plain: no parsing, no logging, no policies. The same
// method as the shared harness's floor (../shared/bench-peers/node-floor-proxy.mjs), so the two
// benches' ratios agree: the request body is forwarded as one Buffer, an answer with a
// Content-Length (JSON) as one Buffer, anything else (SSE) chunk by chunk as it arrives. An earlier
// version streamed both ways with `pipeline()`, which cost 80–104 µs a request against the shared
// floor's ~49, and so flattered every ratio to it.
// Usage: node bench/floor-proxy.ts <port> <backend-url>   (or PORT=, BACKEND_URL=)
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { Pool } from 'undici';

// RFC 9110 §7.6.1 hop-by-hop headers; host is set by undici from the origin.
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate', 'host']);

function endToEnd(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP.has(name)) out[name] = value;
  }
  return out;
}

const port = Number(process.argv[2] ?? process.env['PORT'] ?? 0);
const pool = new Pool(process.argv[3] ?? process.env['BACKEND_URL'] ?? 'http://127.0.0.1:8080', { keepAliveTimeout: 60_000 });

function fail(res: ServerResponse): void {
  if (!res.headersSent) res.writeHead(502).end();
  else res.destroy();
}

const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(c));
  req.on('end', () => {
    const body = parts.length === 0 ? null : parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    pool.request({ method: req.method as 'POST', path: req.url ?? '/', headers: endToEnd(req.headers), body }).then(
      (up) => {
        // The client may have gone while we waited.
        if (res.destroyed) return void up.body.dump().catch(() => {});
        res.writeHead(up.statusCode, endToEnd(up.headers));
        const whole = up.headers['content-length'] !== undefined;
        const chunks: Buffer[] = [];
        up.body.on('data', (c: Buffer) => (whole ? chunks.push(c) : res.write(c)));
        up.body.on('end', () => res.end(whole ? Buffer.concat(chunks) : undefined));
        up.body.on('error', () => fail(res));
        res.on('close', () => up.body.destroy());
      },
      () => fail(res),
    );
  });
});
server.listen(port, '127.0.0.1', () => {
  const addr = server.address();
  if (addr !== null && typeof addr === 'object') console.log(`READY ${addr.port}`);
});
