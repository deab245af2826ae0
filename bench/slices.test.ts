/**
 * Alternating slices with several processes per target (`--instances`): entries of one name are
 * instances of one target. Checks the bookkeeping (sums, per-process figures), not speed: a tiny
 * loopback server stands in for the gateways, and a fake CPU reader counts a fixed cost per slice.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { alternatingSlices, renderInstances } from './slices.ts';
import type { CpuReader } from './children.ts';

const SLICE_CPU_US = 1000;

/** Each read advances by SLICE_CPU_US, so a slice (one read before, one after) costs exactly that. */
function fakeCpu(): CpuReader {
  let us = 0;
  return { source: 'proc', rssPeakMb: () => null, read: () => Promise.resolve((us += SLICE_CPU_US)) };
}

test('alternating slices sum a target over its instances and report each process apart', async () => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => server.close());
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const targets = [
    { name: 'a', origin, cpu: fakeCpu() },
    { name: 'b', origin, cpu: fakeCpu() },
    { name: 'a', origin, cpu: fakeCpu() },
  ];
  const r = await alternatingSlices(targets, { cycles: 1, sliceS: 0.3, concurrency: 2, apiKey: 'k' }, () => {});

  assert.equal(r.instances['a']?.length, 2, 'one figure per process of a');
  assert.equal(r.instances['b']?.length, 1);
  const [a1, a2] = r.instances['a'] ?? [];
  assert.ok(a1 !== undefined && a2 !== undefined && a1.rps > 0 && a2.rps > 0, 'both processes of a got a slice');
  // The target's requests/s is per slice: the mean of its processes', not their sum.
  assert.ok(Math.abs((r.rps['a'] ?? 0) - (a1.rps + a2.rps) / 2) < 1e-6);
  // CPU per request over the sums: two slices' CPU over both processes' requests.
  const requestsA = r.perCycle[0]?.['a'] ?? 0;
  assert.ok(Math.abs((r.cpuUsPerReq['a'] ?? 0) - (2 * SLICE_CPU_US) / requestsA) < 1e-9);
  assert.ok(Math.abs((a1.cpuUsPerReq ?? 0) * a1.rps + (a2.cpuUsPerReq ?? 0) * a2.rps - (2 * SLICE_CPU_US) / r.sliceS) < 1e-6);
  const lines = renderInstances(r.instances);
  assert.equal(lines.length, 1, 'a spread line for the target with two processes only');
  assert.match(lines[0] ?? '', /^ {2}a: CPU µs\/req [\d.]+ \/ [\d.]+ \(max\/min [\d.]+\); req\/s \d+ \/ \d+ \(max\/min [\d.]+\)$/);
});
