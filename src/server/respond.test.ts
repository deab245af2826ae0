import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { request } from 'undici';
import { makeContext } from '../expressions/test-support.ts';
import { writeResponse } from './respond.ts';

// Every byte value, multi-byte UTF-8, and sizes on both sides of the one-write limit: a held body
// must reach the client byte for byte whichever way it is written.
const bodies: Record<string, Buffer> = {
  empty: Buffer.alloc(0),
  bytes: Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
  utf8: Buffer.from(JSON.stringify({ content: 'héllo — 你好 🙂' })),
  limit: Buffer.alloc(16_384, 0xe9),
  large: Buffer.alloc(70_000, 0xc3),
};

const server = createServer((req, res) => {
  const ctx = makeContext();
  const data = bodies[req.url?.slice(1) ?? ''] ?? Buffer.from('?');
  ctx.response = { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: { kind: 'buffer', data } };
  const out = writeResponse(ctx, res, false, () => 0);
  assert.ok(!(out instanceof Promise));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
after(() => server.close());
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

for (const [name, data] of Object.entries(bodies)) {
  test(`a held body (${name}, ${data.length} bytes) arrives byte for byte with its length`, async () => {
    const res = await request(`${origin}/${name}`);
    const got = Buffer.from(await res.body.arrayBuffer());
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-length'], String(data.length));
    assert.ok(got.equals(data));
  });
}
