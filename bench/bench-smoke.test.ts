/**
 * The benchmark still runs end to end (direct, floor, tollgate and limits start, answer and are
 * measured; redis needs a redis-server and is left to `npm run bench`).
 * This checks that `npm run bench` works, not how fast anything is: performance is judged from a
 * full `npm run bench`, never from a test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBench } from './run.ts';

test('npm run bench measures direct, floor, tollgate and limits without skipping any, in rounds and in alternating slices', async () => {
  const r = await runBench({
    rounds: 1,
    duration: 0.5,
    warmup: 0,
    ttfbRequests: 5,
    targets: ['direct', 'floor', 'tollgate', 'limits'],
    output: null,
    pin: false,
    slices: 1,
    sliceSeconds: 0.3,
    log: () => {},
  });
  assert.deepEqual(r.skipped, {});
  const round = r.rounds[0]!;
  for (const target of ['direct', 'floor', 'tollgate', 'limits'] as const) {
    const m = round[target];
    assert.ok(m !== undefined, `${target} measured`);
    assert.ok(m.rps > 0, `${target} answered requests`);
    assert.equal(m.errors + m.non2xx, 0, `${target}: no errors (the token limit refuses nothing)`);
  }
  assert.deepEqual(
    r.summary.checks.map((c) => c.name),
    [
      'requests/s',
      'added latency c=1',
      'stream TTFB',
      'CPU per request',
      'limits requests/s',
      'limits CPU per request',
      'tollgate peak RSS',
      'limits peak RSS',
      'tollgate requests/s (slices)',
      'limits requests/s (slices)',
    ],
    'the tollgate targets of the issue (CPU, memory) and the memory-store ones are checked, the throughput ones again in alternating slices',
  );
  for (const target of ['floor', 'tollgate', 'limits'] as const) assert.ok((round[target]?.rssPeakMb ?? 0) > 0, `${target}: peak RSS read`);
  assert.ok(r.slices !== null && r.slices.rps.limits !== undefined && r.slices.rps.limits > 0, 'every target got its slice');
  assert.ok(r.table.includes('limits requests/s'), 'the limits check is in the table');
});
