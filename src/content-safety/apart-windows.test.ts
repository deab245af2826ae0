import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApartJudge, evidenceWindows, maxMatchLetters } from './apart-windows.ts';
import { SQUASHED_REACH } from './injection.ts';

test('the longest match of a squashed phrase pattern is counted from its syntax; other syntax is refused', () => {
  assert.equal(maxMatchLetters('abc'), 3);
  assert.equal(maxMatchLetters('ab|cdef'), 4);
  assert.equal(maxMatchLetters('(?:you)?(?:are|re)now'), 9);
  assert.equal(maxMatchLetters('(?:(?:all|every)){0,3}x'), 16);
  assert.equal(maxMatchLetters('a[a-z]{0,60}?b'), 62);
  for (const bad of ['a+', 'a*', '(a)', '[^a-z]', 'a{2}', 'A']) assert.throws(() => maxMatchLetters(bad), /unsupported/, bad);
  assert.ok(SQUASHED_REACH >= 60 && SQUASHED_REACH < 200, `${SQUASHED_REACH}`);
});

test('a window reaches the given number of letters past its evidence, whatever lies between them, and near windows are joined', () => {
  const text = `${'ab..'.repeat(20)}XY${'..cd'.repeat(20)}`;
  const ev = Int32Array.from([80, 82]);
  const [from, to] = evidenceWindows(text, ev, 1, 10);
  const letters = (s: string): number => s.replace(/[^a-z]/g, '').length;
  assert.equal(letters(text.slice(from, 80)), 10);
  assert.equal(letters(text.slice(82, to)), 10);
  const long = 'x'.repeat(10_000);
  assert.deepEqual(evidenceWindows(long, Int32Array.from([100, 101, 150, 151, 5000, 5001]), 3, 20), [80, 121, 130, 171, 4980, 5021]);
  assert.deepEqual(evidenceWindows(long, Int32Array.from([100, 101, 130, 131]), 2, 20), [80, 151], 'closer than twice the reach: one window');
  assert.deepEqual(evidenceWindows(long, Int32Array.from([5, 6]), 1, 20), [0, 26], 'clipped at the start');
});

test('the judge gives the verdict the scan always gave, and keeps looking after it', () => {
  const judge = new ApartJudge();
  const runs = (list: Array<[number, number, boolean]>): boolean => {
    judge.reset();
    for (const [a, b, split] of list) judge.run(a, b, split);
    return judge.takenApart;
  };
  assert.equal(runs([[0, 1, false], [2, 3, false], [4, 5, false]]), true, 'three single letters');
  assert.equal(runs([[0, 1, false], [2, 5, false], [6, 7, false], [8, 9, false]]), false, 'not in a row');
  assert.equal(runs([[0, 30, false]]), true, '25 letters or more');
  assert.equal(runs([[0, 2, true], [3, 5, true], [6, 8, true], [9, 11, false]]), false, 'three breaks');
  assert.equal(runs([[0, 2, true], [3, 5, true], [6, 8, true], [9, 11, true], [12, 14, false]]), true, 'four');
  // After a verdict early in the text, a later sign still widens where the search reads.
  judge.reset();
  judge.run(0, 30, false);
  judge.run(5000, 5001, false);
  judge.run(5002, 5003, false);
  judge.run(5004, 5005, false);
  const w = judge.windows('x'.repeat(6000), 10);
  assert.ok(w !== null && w.length === 4 && (w[2] as number) <= 5000 && (w[3] as number) >= 5005, JSON.stringify(w));
});
