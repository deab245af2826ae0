/**
 * The benchmark still runs end to end (all three targets start, answer and are measured).
 * This checks that `npm run bench` works, not how fast anything is: performance is judged from a
 * full `npm run bench`, never from a test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBench } from './run.ts';

test('npm run bench measures direct, floor and tollgate without skipping any', async () => {
  const r = await runBench({ rounds: 1, duration: 0.5, warmup: 0, ttfbRequests: 5, output: null, pin: false, log: () => {} });
  assert.equal(r.skipped, null);
  const round = r.rounds[0]!;
  for (const target of ['direct', 'floor', 'tollgate'] as const) {
    const m = round[target];
    assert.ok(m !== undefined, `${target} measured`);
    assert.ok(m.rps > 0, `${target} answered requests`);
  }
  assert.deepEqual(
    r.summary.checks.map((c) => c.name).length,
    4,
    'the four targets of the issue are checked',
  );
});
