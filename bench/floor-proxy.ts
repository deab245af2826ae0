// "The floor": the least a Node proxy can do (node:http in, undici keep-alive
// pool out, streamed back with backpressure). Tollgate is judged against it, so
// it must stay this plain: no parsing, no logging, no policies.
// Usage: node bench/floor-proxy.ts <port> <backend-url>   (or PORT=, BACKEND_URL=)
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { pipeline } from 'node:stream';
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

const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  pool
    .request({ method: req.method as 'POST', path: req.url ?? '/', headers: endToEnd(req.headers), body: hasBody ? req : null })
    .then(
      (up) => {
        // The client may have gone while we waited (pipeline would throw).
        if (res.destroyed) return void up.body.dump().catch(() => {});
        res.writeHead(up.statusCode, endToEnd(up.headers));
        pipeline(up.body, res, () => {});
      },
      () => {
        if (!res.headersSent) res.writeHead(502).end();
        else res.destroy();
      },
    );
});
server.listen(port, '127.0.0.1', () => {
  const addr = server.address();
  if (addr !== null && typeof addr === 'object') console.log(`READY ${addr.port}`);
});
