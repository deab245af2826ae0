/**
 * A body passed through (not held) moves at the client's pace: while the client reads nothing,
 * the gateway stops reading from the backend, so what it buffers stays bounded (a few socket
 * buffers), not the size of the body.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';

const MiB = 1024 * 1024;
const TOTAL = 64 * MiB;
const CHUNK = Buffer.alloc(MiB, 0x61);

let t: TestGateway;
let backend: Server;
/** Bytes the backend's socket accepted so far. */
let written = 0;

before(async () => {
  backend = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(TOTAL) });
    const pump = (): void => {
      while (written < TOTAL) {
        written += CHUNK.length;
        if (!res.write(CHUNK)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const port = (backend.address() as { port: number }).port;
  t = await startTestGateway({
    extraBackends: { bulk: { url: `http://127.0.0.1:${port}` } },
    extraApis: { bulk: { path: 'bulk', type: 'http', backend: 'bulk' } },
  });
});
after(async () => {
  await t.close();
  backend.closeAllConnections();
  await new Promise<void>((r) => backend.close(() => r()));
});

test('a client that stops reading stops the backend too: the gateway holds a bounded amount, then passes every byte', async (ctx) => {
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpRequest(`${t.url}/bulk/download`, { headers: { 'api-key': TEST_KEY } }, resolve);
    req.on('error', reject);
    req.end();
  });
  assert.equal(res.statusCode, 200);
  res.pause();
  // Let every buffer on the way fill up, and check the backend is stuck well short of the end.
  let stuckAt = -1;
  for (let i = 0; i < 50 && stuckAt !== written; i++) {
    stuckAt = written;
    await sleep(100);
  }
  ctx.diagnostic(`backend stalled after ${(written / MiB).toFixed(0)} MiB of ${TOTAL / MiB} MiB while the client read nothing`);
  assert.equal(stuckAt, written, 'the backend stopped writing');
  assert.ok(written < TOTAL / 2, `the gateway kept reading while the client did not (${written} bytes)`);
  let received = 0;
  res.on('data', (b: Buffer) => (received += b.length));
  res.resume();
  await new Promise<void>((resolve, reject) => {
    res.on('end', resolve);
    res.on('error', reject);
  });
  assert.equal(received, TOTAL);
});
