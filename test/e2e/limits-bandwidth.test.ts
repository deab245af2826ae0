/**
 * quota-by-key bandwidth counts the whole response as the client received it (status line,
 * headers and body), plus the request body, in bytes: measured here on a raw socket, byte for byte.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';

const KB = 2;
let t: TestGateway;
before(async () => {
  t = await startTestGateway({
    logLevel: 'warn',
    apiPolicies: `<policies><inbound><base /><quota-by-key bandwidth="${KB}" renewal-period="3600" counter-key="@(context.Subscription.Id)" /></inbound></policies>`,
  });
});
after(() => t.close());

interface Exchange {
  status: number;
  requestBodyBytes: number;
  headerBytes: number;
  bodyBytes: number;
}

/** One request on its own connection; the response read to the end, split at the blank line. */
function exchange(url: string, i: number): Promise<Exchange> {
  const { hostname, port } = new URL(url);
  const body = Buffer.from(JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: `bandwidth ${i}` }], max_tokens: 20 }));
  const head = [
    'POST /v1/chat/completions HTTP/1.1',
    `host: ${hostname}:${port}`,
    `api-key: ${TEST_KEY}`,
    'content-type: application/json',
    'x-sim-completion-tokens: 20',
    `content-length: ${body.length}`,
    'connection: close',
    '',
    '',
  ].join('\r\n');
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    socket.on('data', (b: Buffer) => chunks.push(b));
    socket.once('error', reject);
    socket.once('end', () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      assert.ok(end > 0, 'a complete header block');
      const headerBytes = end + 4;
      const lengthHeader = /\r\ncontent-length: (\d+)\r\n/i.exec(all.subarray(0, headerBytes).toString('latin1'));
      assert.ok(lengthHeader !== null, 'a held answer with content-length');
      assert.equal(all.length - headerBytes, Number(lengthHeader[1]));
      resolve({ status: Number(all.subarray(9, 12).toString('latin1')), requestBodyBytes: body.length, headerBytes, bodyBytes: all.length - headerBytes });
    });
    socket.write(head);
    socket.write(body); // no half-close: the server answers, then closes (connection: close)
  });
}

test('bandwidth is the request body plus the whole response (headers included), in bytes: refused exactly once that sum exceeds the quota', async () => {
  const limit = KB * 1024;
  let total = 0;
  let bodiesOnly = 0;
  let admitted = 0;
  for (let i = 0; i < 50; i++) {
    const ex = await exchange(t.url, i);
    if (ex.status === 403) {
      assert.ok(total > limit, `refused only once over the quota (${total} of ${limit} bytes)`);
      break;
    }
    assert.equal(ex.status, 200);
    assert.ok(total <= limit, `admitted while within the quota (${total} of ${limit} bytes)`);
    admitted++;
    total += ex.requestBodyBytes + ex.headerBytes + ex.bodyBytes;
    bodiesOnly += ex.requestBodyBytes + ex.bodyBytes;
    // The settle runs when the response is written; give it the moment it needs.
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(admitted >= 2, `several requests fit (${admitted})`);
  // Counting bodies only would have admitted at least one more request: the headers made the difference.
  assert.ok(bodiesOnly <= limit, `bodies alone (${bodiesOnly} bytes) would still fit in ${limit}`);
});
